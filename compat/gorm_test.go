package compat

import (
	"errors"
	"strings"
	"testing"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// The GORM models: an author with many books (has-many / belongs-to).
// Times are left out (TIMESTAMP comes with the column types work).
type Author struct {
	ID    int64  `gorm:"primaryKey;autoIncrement:false"`
	Name  string `gorm:"not null;uniqueIndex"`
	Books []Book
}

type Book struct {
	ID       int64 `gorm:"primaryKey;autoIncrement:false"`
	Title    string
	Pages    int64
	AuthorID int64 `gorm:"index"`
	Author   *Author
}

// TestGORM: AutoMigrate of models with an association (twice: the second
// run introspects and changes nothing), CRUD with preloading, and
// transactions that commit and roll back.
func TestGORM(t *testing.T) {
	name := newDatabase(t)
	db, err := gorm.Open(postgres.Open(dsn(name)), &gorm.Config{
		Logger: logger.Default.LogMode(logger.Silent),
		// Foreign keys are not supported: GORM would add them.
		DisableForeignKeyConstraintWhenMigrating: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := db.AutoMigrate(&Author{}, &Book{}); err != nil {
			if strings.Contains(err.Error(), "0A000") {
				t.Skipf("AutoMigrate needs a statement the server refuses: %v", err)
			}
			t.Fatalf("AutoMigrate: %v", err)
		}
	}
	if !db.Migrator().HasTable(&Book{}) || !db.Migrator().HasColumn(&Book{}, "Pages") || !db.Migrator().HasIndex(&Book{}, "AuthorID") {
		t.Fatal("migrator introspection does not see the tables, columns or indexes it made")
	}
	ann := Author{ID: 1, Name: "Ann", Books: []Book{{ID: 1, Title: "One", Pages: 100}, {ID: 2, Title: "Two", Pages: 200}}}
	if err := db.Create(&ann).Error; err != nil {
		t.Fatalf("create with association: %v", err)
	}
	var got Author
	if err := db.Preload("Books", func(tx *gorm.DB) *gorm.DB { return tx.Order("id") }).First(&got, 1).Error; err != nil {
		t.Fatal(err)
	}
	if got.Name != "Ann" || len(got.Books) != 2 || got.Books[1].Title != "Two" {
		t.Fatalf("preloaded author: %+v", got)
	}
	if err := db.Model(&Book{}).Where("id = ?", 2).Update("pages", 250).Error; err != nil {
		t.Fatal(err)
	}
	var book Book
	if err := db.Preload("Author").First(&book, 2).Error; err != nil || book.Pages != 250 || book.Author == nil || book.Author.Name != "Ann" {
		t.Fatalf("updated book: %+v %v", book, err)
	}
	// A transaction that fails leaves nothing; one that succeeds keeps all.
	errStop := errors.New("stop")
	err = db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&Author{ID: 2, Name: "Bob"}).Error; err != nil {
			return err
		}
		return errStop
	})
	if !errors.Is(err, errStop) {
		t.Fatal(err)
	}
	var count int64
	db.Model(&Author{}).Where("id = ?", 2).Count(&count)
	if count != 0 {
		t.Fatal("a rolled back transaction left a row")
	}
	if err := db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&Author{ID: 3, Name: "Cy"}).Error; err != nil {
			return err
		}
		return tx.Delete(&Book{}, 1).Error
	}); err != nil {
		t.Fatal(err)
	}
	db.Model(&Book{}).Count(&count)
	if count != 1 {
		t.Fatalf("%d books after the committed transaction, want 1", count)
	}
	// The unique index holds.
	if err := db.Create(&Author{ID: 4, Name: "Ann"}).Error; err == nil {
		t.Fatal("duplicate name accepted")
	}
}

// Note is a model with GORM's default primary key: an auto-increment uint
// ID, which AutoMigrate declares as bigserial.
type Note struct {
	ID   uint `gorm:"primaryKey"`
	Text string
}

// TestGORMAutoIncrement: AutoMigrate of a model with an auto-increment ID
// (twice: the second run sees the column as it made it), creates that
// fill the IDs from the column's sequence (one row, a batch), and the
// serial sequence as pg_get_serial_sequence names it.
func TestGORMAutoIncrement(t *testing.T) {
	name := newDatabase(t)
	db, err := gorm.Open(postgres.Open(dsn(name)), &gorm.Config{Logger: logger.Default.LogMode(logger.Silent)})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := db.AutoMigrate(&Note{}); err != nil {
			t.Fatalf("AutoMigrate: %v", err)
		}
	}
	first := Note{Text: "first"}
	if err := db.Create(&first).Error; err != nil {
		t.Fatal(err)
	}
	batch := []Note{{Text: "a"}, {Text: "b"}, {Text: "c"}}
	if err := db.Create(&batch).Error; err != nil {
		t.Fatal(err)
	}
	if first.ID != 1 || batch[0].ID != 2 || batch[2].ID != 4 {
		t.Fatalf("ids: first %d, batch %d %d %d; want 1, 2 3 4", first.ID, batch[0].ID, batch[1].ID, batch[2].ID)
	}
	var got Note
	if err := db.First(&got, 3).Error; err != nil || got.Text != "b" {
		t.Fatalf("note 3: %+v %v", got, err)
	}
	var seq string
	if err := db.Raw("SELECT pg_get_serial_sequence('notes', 'id')").Scan(&seq).Error; err != nil || seq != "public.notes_id_seq" {
		t.Fatalf("pg_get_serial_sequence: %q %v", seq, err)
	}
	// A failed transaction does not give its ID back: the next is 6.
	_ = db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&Note{Text: "lost"}).Error; err != nil {
			return err
		}
		return errors.New("roll back")
	})
	next := Note{Text: "after"}
	if err := db.Create(&next).Error; err != nil || next.ID != 6 {
		t.Fatalf("id after a rolled back insert: %d %v, want 6", next.ID, err)
	}
}
