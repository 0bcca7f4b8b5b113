package cli

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/camusdb/camusdb-go/client"
)

// workloadBankInitialBalance is every account's balance after init.
const workloadBankInitialBalance = 1000

// workloadBank moves money between accounts. Each transfer reads two
// balances and writes both back as absolute values, so under anything
// weaker than serializable isolation (lost updates, write skew) or without
// atomic commits the total drifts — and the final check sees it. Balances
// never go negative by construction, which is checked too.
type workloadBank struct {
	accounts int
}

func (*workloadBank) tables() [][2]string {
	return [][2]string{{"accounts", "CREATE TABLE accounts (id INT64 PRIMARY KEY, balance INT64 NOT NULL)"}}
}

func (*workloadBank) loadUnits(rows int) int64 { return int64(rows) }

func (*workloadBank) load(ctx context.Context, env *workloadEnv, rows int, step func(int)) (map[string]int64, error) {
	const batch = 500
	var sb strings.Builder
	for first := 0; first < rows; first += batch {
		sb.Reset()
		sb.WriteString("INSERT INTO accounts (id, balance) VALUES ")
		n := min(batch, rows-first)
		for i := range n {
			if i > 0 {
				sb.WriteString(", ")
			}
			fmt.Fprintf(&sb, "(%d, %d)", first+i, workloadBankInitialBalance)
		}
		if _, err := env.c.Exec(ctx, env.db, sb.String(), nil, nil); err != nil {
			return nil, err
		}
		step(n)
	}
	return map[string]int64{
		"bank.accounts": int64(rows),
		"bank.total":    int64(rows) * workloadBankInitialBalance,
	}, nil
}

func (b *workloadBank) prepare(_ context.Context, _ *workloadEnv, meta map[string]int64) error {
	b.accounts = int(meta["bank.accounts"])
	if b.accounts < 2 {
		return fmt.Errorf("%s has %d bank accounts; run workload init bank", workloadMetaTable, b.accounts)
	}
	return nil
}

// op transfers a random amount (never more than the source holds) between
// two distinct random accounts: read 2, write 2.
func (b *workloadBank) op(ctx context.Context, env *workloadEnv, rng *rand.Rand) (int, error) {
	from := rng.IntN(b.accounts)
	to := rng.IntN(b.accounts - 1)
	if to >= from {
		to++
	}
	amount := int64(1 + rng.IntN(100))
	return env.c.RunTxn(ctx, env.db, env.attempts, func(ctx context.Context, txn *client.Txn) error {
		res, err := env.c.Query(ctx, env.db, "SELECT id, balance FROM accounts WHERE id IN (@src, @dst)",
			map[string]any{"src": from, "dst": to}, txn)
		if err != nil {
			return err
		}
		balances := map[int64]int64{}
		for _, row := range res.Rows {
			id, _ := row[0].(int64)
			balance, _ := row[1].(int64)
			balances[id] = balance
		}
		fromBalance, ok1 := balances[int64(from)]
		toBalance, ok2 := balances[int64(to)]
		if !ok1 || !ok2 {
			return fmt.Errorf("bank: account %d or %d is missing", from, to)
		}
		moved := min(amount, fromBalance)
		if moved <= 0 {
			return nil
		}
		for _, w := range []struct{ id, balance int64 }{{int64(from), fromBalance - moved}, {int64(to), toBalance + moved}} {
			n, err := env.c.Exec(ctx, env.db, "UPDATE accounts SET balance = @balance WHERE id = @id",
				map[string]any{"balance": w.balance, "id": w.id}, txn)
			if err != nil {
				return err
			}
			if n != 1 {
				return fmt.Errorf("bank: updating account %d changed %d rows", w.id, n)
			}
		}
		return nil
	})
}

func (*workloadBank) verify(ctx context.Context, env *workloadEnv, meta map[string]int64) (string, error) {
	res, err := env.c.Query(ctx, env.db, "SELECT COUNT(*), SUM(balance), MIN(balance) FROM accounts", nil, nil)
	if err != nil {
		return "", fmt.Errorf("bank verify: %w", err)
	}
	if len(res.Rows) != 1 || len(res.Rows[0]) != 3 {
		return "", fmt.Errorf("bank verify: unexpected result %v", res.Rows)
	}
	count, _ := res.Rows[0][0].(int64)
	total, _ := res.Rows[0][1].(int64)
	minBalance, _ := res.Rows[0][2].(int64)
	line := fmt.Sprintf("%d accounts, total balance %d (expected %d accounts, %d), lowest balance %d",
		count, total, meta["bank.accounts"], meta["bank.total"], minBalance)
	if count != meta["bank.accounts"] || total != meta["bank.total"] || minBalance < 0 {
		return "", fmt.Errorf("bank: %s: %w", line, errWorkloadInvariant)
	}
	return line, nil
}
