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
