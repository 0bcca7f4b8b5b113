package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/camusdb/camusdb-go/internal/server/auth"
)

// newCertCommand builds `camusdb cert create-ca|create-node|create-client`,
// which write the files a node's --certs-dir holds (crypto/x509, no
// openssl needed). Existing files are never overwritten.
func newCertCommand() *cobra.Command {
	var certsDir string
	var lifetime time.Duration
	cmd := &cobra.Command{
		Use:   "cert",
		Short: "Create TLS certificates: a cluster CA, node and client certificates",
		Args:  cobra.NoArgs,
	}
	cmd.PersistentFlags().StringVar(&certsDir, "certs-dir", "certs", "directory of ca.crt, ca.key, node.crt, node.key and client.<user>.crt/.key")
	cmd.PersistentFlags().DurationVar(&lifetime, "lifetime", 0, "validity of the new certificate (default 10 years for the CA, 2 years otherwise)")
	life := func(def time.Duration) time.Duration {
		if lifetime > 0 {
			return lifetime
		}
		return def
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "create-ca",
		Short: "Create the cluster CA (ca.crt, ca.key); keep ca.key off the nodes when you can",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := auth.CreateCA(certsDir, life(auth.DefaultCALifetime)); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s/%s and %s/%s\n", certsDir, auth.CACertFile, certsDir, auth.CAKeyFile)
			return nil
		},
	}, &cobra.Command{
		Use:   "create-node HOST...",
		Short: "Create node.crt/node.key for the IP addresses and names the node is reached by",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, hosts []string) error {
			if err := auth.CreateNodeCert(certsDir, hosts, life(auth.DefaultCertLifetime)); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s/%s and %s/%s\n", certsDir, auth.NodeCertFile, certsDir, auth.NodeKeyFile)
			return nil
		},
	}, &cobra.Command{
		Use:   "create-client USER",
		Short: "Create client.USER.crt/.key",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := auth.CreateClientCert(certsDir, args[0], life(auth.DefaultCertLifetime)); err != nil {
				return err
			}
			certFile, keyFile := auth.ClientCertFiles(args[0])
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s/%s and %s/%s\n", certsDir, certFile, certsDir, keyFile)
			return nil
		},
	})
	return cmd
}
