package cli

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/camusdb/camusdb-go/client"
)

// workloadNorthwindInitialStock is every product's stock before the orders
// init places.
const workloadNorthwindInitialStock = 1_000_000

var workloadNorthwindCities = []string{"Berlin", "London", "Madrid", "México D.F.", "Seattle", "Tokyo", "São Paulo", "Lyon"}

// workloadNorthwind is a small order-entry schema. The mix: 40% customer
// point reads, 15% product point reads, 35% new orders (read the product,
// insert the order, decrement the stock — all in one transaction), 10%
// per-customer summaries (a join with GROUP BY when the server supports
// joins, else an aggregate over the customer's orders through their index).
// Invariant: for every product, stock + ordered quantity is what init set,
// so SUM(stock) + SUM(qty) never changes; no stock goes negative.
type workloadNorthwind struct {
	customers, products int
	useJoin             bool
}

const (
	workloadNorthwindJoin = "SELECT c.name, COUNT(*) AS orders, SUM(o.total) AS spent FROM customers c " +
		"JOIN orders o ON o.customer_id = c.id WHERE c.id = @customer GROUP BY c.name"
	workloadNorthwindAggregate = "SELECT COUNT(*) AS orders, SUM(total) AS spent FROM orders WHERE customer_id = @customer"
)

func (*workloadNorthwind) tables() [][2]string {
	return [][2]string{
		{"customers", "CREATE TABLE customers (id INT64 PRIMARY KEY, name STRING NOT NULL, city STRING, INDEX customers_city (city))"},
		{"products", "CREATE TABLE products (id INT64 PRIMARY KEY, name STRING NOT NULL, price FLOAT64 NOT NULL, stock INT64 NOT NULL)"},
		{"orders", "CREATE TABLE orders (id OID PRIMARY KEY, customer_id INT64 NOT NULL, product_id INT64 NOT NULL, " +
			"qty INT64 NOT NULL, total FLOAT64 NOT NULL, INDEX orders_customer (customer_id))"},
	}
}

func workloadNorthwindProducts(customers int) int { return max(10, customers/10) }

func workloadNorthwindPrice(product int) float64 { return float64(100+(product*37)%900) / 10 }

// loadUnits: customers, products, and one initial order per customer.
func (*workloadNorthwind) loadUnits(rows int) int64 {
	return int64(2*rows + workloadNorthwindProducts(rows))
}

func (*workloadNorthwind) load(ctx context.Context, env *workloadEnv, rows int, step func(int)) (map[string]int64, error) {
	products := workloadNorthwindProducts(rows)
	insert := func(prefix string, n int, row func(i int, sb *strings.Builder)) error {
		const batch = 250
		var sb strings.Builder
		for first := 0; first < n; first += batch {
			sb.Reset()
			sb.WriteString(prefix)
			count := min(batch, n-first)
			for i := range count {
				if i > 0 {
					sb.WriteString(", ")
				}
				row(first+i, &sb)
			}
			if _, err := env.c.Exec(ctx, env.db, sb.String(), nil, nil); err != nil {
				return err
			}
			step(count)
		}
		return nil
	}
	err := insert("INSERT INTO customers (id, name, city) VALUES ", rows, func(i int, sb *strings.Builder) {
		sb.WriteString(fmt.Sprintf("(%d, ", i))
		sb.Write(dumpAppendString(nil, fmt.Sprintf("Customer %d", i)))
		sb.WriteString(", ")
		sb.Write(dumpAppendString(nil, workloadNorthwindCities[i%len(workloadNorthwindCities)]))
		sb.WriteString(")")
	})
	if err != nil {
		return nil, err
	}
	// One initial order per customer; the stock it took is subtracted at once.
	ordered := make([]int64, products)
	orderProduct := func(i int) (int, int64) { return (i * 7) % products, int64(1 + i%5) }
	for i := range rows {
		p, qty := orderProduct(i)
		ordered[p] += qty
	}
	err = insert("INSERT INTO products (id, name, price, stock) VALUES ", products, func(i int, sb *strings.Builder) {
		fmt.Fprintf(sb, "(%d, 'Product %d', %s, %d)", i, i, dumpAppendFloat(nil, workloadNorthwindPrice(i)),
			workloadNorthwindInitialStock-ordered[i])
	})
	if err != nil {
		return nil, err
	}
	err = insert("INSERT INTO orders (id, customer_id, product_id, qty, total) VALUES ", rows, func(i int, sb *strings.Builder) {
		p, qty := orderProduct(i)
		fmt.Fprintf(sb, "(GEN_ID(), %d, %d, %d, %s)", i, p, qty, dumpAppendFloat(nil, float64(qty)*workloadNorthwindPrice(p)))
	})
	if err != nil {
		return nil, err
	}
	return map[string]int64{
		"northwind.customers": int64(rows),
		"northwind.products":  int64(products),
		"northwind.units":     int64(products) * workloadNorthwindInitialStock,
	}, nil
}

// prepare reads the sizes and probes whether the server runs joins.
func (nw *workloadNorthwind) prepare(ctx context.Context, env *workloadEnv, meta map[string]int64) error {
	nw.customers, nw.products = int(meta["northwind.customers"]), int(meta["northwind.products"])
	if nw.customers < 1 || nw.products < 1 {
		return fmt.Errorf("%s has no northwind sizes; run workload init northwind", workloadMetaTable)
	}
	_, err := env.c.Query(ctx, env.db, workloadNorthwindJoin, map[string]any{"customer": 0}, nil)
	switch code := client.CodeOf(err); {
	case err == nil:
		nw.useJoin = true
	case code == client.CodeUnsupported || code == client.CodeSyntaxError:
		fmt.Fprintf(env.out, "northwind: the server does not run joins (%s); summaries use single-table aggregates\n", code)
	default:
		return fmt.Errorf("northwind: probing joins: %w", err)
	}
	return nil
}

func (nw *workloadNorthwind) op(ctx context.Context, env *workloadEnv, rng *rand.Rand) (int, error) {
	c := env.c
	customer := rng.IntN(nw.customers)
	product := rng.IntN(nw.products)
	choice := rng.IntN(100)
	return c.RunTxn(ctx, env.db, env.attempts, func(ctx context.Context, txn *client.Txn) error {
		switch {
		case choice < 40:
			return workloadExpectRows(c.Query(ctx, env.db, "SELECT name, city FROM customers WHERE id = @id",
				map[string]any{"id": customer}, txn))
		case choice < 55:
			return workloadExpectRows(c.Query(ctx, env.db, "SELECT name, price, stock FROM products WHERE id = @id",
				map[string]any{"id": product}, txn))
		case choice < 90:
			return nw.newOrder(ctx, env, txn, customer, product, int64(1+rng.IntN(5)))
		default:
			sql := workloadNorthwindAggregate
			if nw.useJoin {
				sql = workloadNorthwindJoin
			}
			_, err := c.Query(ctx, env.db, sql, map[string]any{"customer": customer}, txn)
			return err
		}
	})
}

// workloadExpectRows turns "no such row" into an error: every id the mix
// reads exists.
func workloadExpectRows(res *client.Result, err error) error {
	if err == nil && len(res.Rows) != 1 {
		return fmt.Errorf("point read returned %d rows, want 1", len(res.Rows))
	}
	return err
}

func (*workloadNorthwind) newOrder(ctx context.Context, env *workloadEnv, txn *client.Txn, customer, product int, qty int64) error {
	c := env.c
	res, err := c.Query(ctx, env.db, "SELECT price, stock FROM products WHERE id = @id", map[string]any{"id": product}, txn)
	if err != nil {
		return err
	}
	if len(res.Rows) != 1 {
		return fmt.Errorf("northwind: product %d is missing", product)
	}
	price, _ := res.Rows[0][0].(float64)
	stock, _ := res.Rows[0][1].(int64)
	if stock < qty {
		return nil // sold out: nothing to order
	}
	if _, err := c.Exec(ctx, env.db, "INSERT INTO orders (id, customer_id, product_id, qty, total) VALUES (GEN_ID(), @customer, @product, @qty, @total)",
		map[string]any{"customer": customer, "product": product, "qty": qty, "total": price * float64(qty)}, txn); err != nil {
		return err
	}
	_, err = c.Exec(ctx, env.db, "UPDATE products SET stock = @stock WHERE id = @id", map[string]any{"stock": stock - qty, "id": product}, txn)
	return err
}

// verify reads both sums in one transaction, so they belong to one snapshot.
func (*workloadNorthwind) verify(ctx context.Context, env *workloadEnv, meta map[string]int64) (string, error) {
	var stock, minStock, products, ordered int64
	_, err := env.c.RunTxn(ctx, env.db, env.attempts, func(ctx context.Context, txn *client.Txn) error {
		res, err := env.c.Query(ctx, env.db, "SELECT COUNT(*), SUM(stock), MIN(stock) FROM products", nil, txn)
		if err != nil {
			return err
		}
		if len(res.Rows) != 1 || len(res.Rows[0]) != 3 {
			return fmt.Errorf("unexpected result %v", res.Rows)
		}
		products, _ = res.Rows[0][0].(int64)
		stock, _ = res.Rows[0][1].(int64)
		minStock, _ = res.Rows[0][2].(int64)
		res, err = env.c.Query(ctx, env.db, "SELECT COALESCE(SUM(qty), 0) FROM orders", nil, txn)
		if err != nil {
			return err
		}
		if len(res.Rows) != 1 || len(res.Rows[0]) != 1 {
			return fmt.Errorf("unexpected result %v", res.Rows)
		}
		ordered, _ = res.Rows[0][0].(int64)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("northwind verify: %w", err)
	}
	line := fmt.Sprintf("%d products, stock %d + ordered %d = %d (expected %d products, %d), lowest stock %d",
		products, stock, ordered, stock+ordered, meta["northwind.products"], meta["northwind.units"], minStock)
	if products != meta["northwind.products"] || stock+ordered != meta["northwind.units"] || minStock < 0 {
		return "", fmt.Errorf("northwind: %s: %w", line, errWorkloadInvariant)
	}
	return line, nil
}
