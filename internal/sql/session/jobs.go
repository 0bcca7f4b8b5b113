package session

import (
	"context"
	"slices"
	"time"

	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/eval"
	"github.com/camusdb/camusdb-go/internal/sql/exec"
	"github.com/camusdb/camusdb-go/internal/sql/jobs"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// showJobsColumns are the columns of SHOW JOBS and SHOW JOB id.
var showJobsColumns = []Column{
	{Name: "job_id", Type: types.Int64},
	{Name: "job_type", Type: types.String},
	{Name: "description", Type: types.String},
	{Name: "user_name", Type: types.String},
	{Name: "status", Type: types.String},
	{Name: "fraction_completed", Type: types.Float64},
	{Name: "rows_processed", Type: types.Int64},
	{Name: "node_id", Type: types.Int64},
	{Name: "created", Type: types.String},
	{Name: "started", Type: types.String},
	{Name: "finished", Type: types.String},
	{Name: "error", Type: types.String},
}

// jobStatement runs SHOW JOBS, SHOW JOB, PAUSE/RESUME/CANCEL JOB. They are
// reserved to admins (like SHOW QUERIES' cancel side).
func (s *Server) jobStatement(ctx context.Context, req Request, stmt ast.Statement) (*Result, error) {
	user := UserFrom(ctx)
	check := func(ctx context.Context, txn catalog.Txn) (*exec.Result, error) {
		if _, err := checkStatement(ctx, txn, user, req.Database, stmt); err != nil {
			return nil, asStatementError(err)
		}
		return &exec.Result{Kind: exec.DDL}, nil
	}
	if _, err := s.run(ctx, Request{Database: req.Database}, check); err != nil {
		return nil, err
	}
	switch st := stmt.(type) {
	case *ast.ShowJobs:
		var recs []*jobs.Record
		if st.ID == nil {
			var err error
			if recs, err = s.jobs.List(ctx); err != nil {
				return nil, mapError(err)
			}
		} else {
			id, err := s.jobID(st.ID, req)
			if err != nil {
				return nil, err
			}
			rec, err := s.jobs.Get(ctx, id)
			if err != nil {
				return nil, mapError(err)
			}
			recs = []*jobs.Record{rec}
		}
		rows := make([][]types.Value, 0, len(recs))
		for _, r := range recs {
			errText := types.NullValue
			if r.Error != "" {
				errText = types.NewString(r.Error)
			}
			rows = append(rows, []types.Value{
				types.NewInt(int64(r.ID)), types.NewString(r.Type), types.NewString(r.Description),
				types.NewString(r.User), types.NewString(string(r.Status)), types.NewFloat(r.Fraction),
				types.NewInt(r.Rows), types.NewInt(int64(r.ClaimNode)),
				jobTime(r.Created), jobTime(r.Started), jobTime(r.Finished), errText,
			})
		}
		return &Result{Kind: ResultRows, Columns: slices.Clone(showJobsColumns), Rows: rows, Database: req.Database}, nil
	case *ast.ControlJob:
		id, err := s.jobID(st.ID, req)
		if err != nil {
			return nil, err
		}
		switch st.Action {
		case "PAUSE":
			err = s.jobs.Pause(ctx, id)
		case "RESUME":
			err = s.jobs.Resume(ctx, id)
		default:
			err = s.jobs.Cancel(ctx, id)
		}
		if err != nil {
			return nil, mapError(err)
		}
		return &Result{Kind: ResultDDL, Database: req.Database}, nil
	}
	return nil, errcode.New(errcode.Unsupported, "statement %T is not a job statement", stmt)
}

func jobTime(nanos int64) types.Value {
	if nanos == 0 {
		return types.NullValue
	}
	return types.NewString(time.Unix(0, nanos).UTC().Format(startLayout))
}

// jobID evaluates a job id (an integer literal or parameter).
func (s *Server) jobID(e ast.Expr, req Request) (uint64, error) {
	compiled, err := eval.Compile(e, nil, &eval.Env{Params: req.Params, Now: s.cfg.Clock()}, nil)
	if err != nil {
		return 0, err
	}
	v, err := compiled.Eval(nil)
	if err != nil {
		return 0, err
	}
	if v.Kind != types.Int64 || v.Int <= 0 {
		return 0, errcode.New(errcode.InvalidInput, "a job id is a positive integer (see SHOW JOBS), got %s", v.Kind)
	}
	return uint64(v.Int), nil
}
