package systemtest

import (
	"io"
	"net/http"

	"github.com/camusdb/camusdb-go/client"
)

type clientTxn struct {
	txn  *client.Txn
	name string
}

func ioCopy(w io.Writer, resp *http.Response) (int64, error) { return io.Copy(w, resp.Body) }
