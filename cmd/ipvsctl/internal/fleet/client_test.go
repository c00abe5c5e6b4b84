package fleet

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipvs-tools/ipvs/internal/etcdtest"
	"go.etcd.io/etcd/server/v3/embed"
)

// pki writes a CA, a server certificate for 127.0.0.1 and a client
// certificate into dir and returns their paths.
func pki(t *testing.T, dir string) (ca, srvCert, srvKey, cliCert, cliKey string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	leaf := func(name string, serial int64, usage x509.ExtKeyUsage) (string, string) {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kb, _ := x509.MarshalECPrivateKey(k)
		return write(name+".pem", "CERTIFICATE", der), write(name+"-key.pem", "EC PRIVATE KEY", kb)
	}
	ca = write("ca.pem", "CERTIFICATE", caDER)
	srvCert, srvKey = leaf("server", 2, x509.ExtKeyUsageServerAuth)
	cliCert, cliKey = leaf("client", 3, x509.ExtKeyUsageClientAuth)
	return
}

func tryPut(o ClientOptions) error {
	c, err := Connect(o)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_, err = c.Put(ctx, "/ipvsctl/probe", "x")
	return err
}

func TestConnectWithClientCertificates(t *testing.T) {
	t.Parallel() // waits for etcd to go and come back: overlap the waits
	dir := t.TempDir()
	ca, sc, sk, cc, ck := pki(t, dir)
	srv := etcdtest.New(t)
	srv.Configure = func(cfg *embed.Config) {
		cfg.ClientTLSInfo.CertFile, cfg.ClientTLSInfo.KeyFile = sc, sk
		cfg.ClientTLSInfo.TrustedCAFile, cfg.ClientTLSInfo.ClientCertAuth = ca, true
	}
	srv.Start(t)
	ep := srv.Endpoint()
	if !strings.HasPrefix(ep, "https://") {
		t.Fatalf("endpoint %s is not https", ep)
	}
	if err := tryPut(ClientOptions{Endpoints: []string{ep}, CACert: ca, Cert: cc, Key: ck}); err != nil {
		t.Errorf("with the client certificate: %v", err)
	}
	if err := tryPut(ClientOptions{Endpoints: []string{ep}, CACert: ca}); err == nil {
		t.Error("without a client certificate: accepted")
	}
	for _, tc := range []struct {
		o    ClientOptions
		want string
	}{
		{ClientOptions{Endpoints: []string{ep}, Cert: cc}, "give both --etcd-cert and --etcd-key"},
		{ClientOptions{Endpoints: []string{ep}, CACert: cc + ".missing"}, "etcd CA: open "},
		{ClientOptions{Endpoints: []string{ep}, CACert: ck}, "no PEM certificate in it"},
		{ClientOptions{Endpoints: []string{"127.0.0.1:2379"}}, `etcd endpoint "127.0.0.1:2379": want a URL`},
		{ClientOptions{}, "no etcd endpoint given"},
	} {
		if _, err := Connect(tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Connect(%+v) = %v, want %q", tc.o, err, tc.want)
		}
	}
}

func TestConnectWithPassword(t *testing.T) {
	srv := etcdtest.Start(t)
	c := srv.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.UserAdd(ctx, "root", "s3cret"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UserGrantRole(ctx, "root", "root"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AuthEnable(ctx); err != nil {
		t.Fatal(err)
	}
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte("s3cret\n"), 0o600)
	if err := tryPut(ClientOptions{Endpoints: []string{srv.Endpoint()}, User: "root", PasswordFile: pw}); err != nil {
		t.Errorf("with the password: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad")
	os.WriteFile(bad, []byte("wrong\n"), 0o600)
	if err := tryPut(ClientOptions{Endpoints: []string{srv.Endpoint()}, User: "root", PasswordFile: bad}); err == nil ||
		!strings.Contains(err.Error(), "authentication failed") {
		t.Errorf("with a wrong password: %v", err)
	}
	if err := tryPut(ClientOptions{Endpoints: []string{srv.Endpoint()}}); err == nil {
		t.Error("without credentials: accepted")
	}
	if _, err := Connect(ClientOptions{Endpoints: []string{srv.Endpoint()}, PasswordFile: pw}); err == nil ||
		!strings.Contains(err.Error(), "needs --etcd-user") {
		t.Errorf("a password without a user: %v", err)
	}
}
