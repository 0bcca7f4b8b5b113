// Package systemtest runs the real binaries (camusdb, camus-cli) as
// processes on loopback ports and checks the product end to end: SQL over
// HTTP and through the shell, durability across kill -9, transactions,
// error handling. The binaries are built once per test run into a
// temporary directory.
package systemtest
