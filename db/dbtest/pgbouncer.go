package dbtest

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// PgBouncer starts Debian's pgbouncer (1.18: no prepared statements in
// transaction pooling) in front of the server that dsn names, for the
// test's lifetime, and returns dsn's database reached through it. Its
// database "*" is pooled in transaction mode with a few server
// connections, so consecutive transactions of one client land on
// different server connections, as they do in production. Each of
// sessionAliases is also served in session mode: connecting to alias
// reaches dsn's database on a connection kept for the client (what a job
// holding a session-level advisory lock needs); PgBouncerAlias builds its
// URL.
//
// pgbouncer comes from `.ci/pooler-deps`, which `make test` runs. Without
// it the test fails when CI=true and is skipped, with the reason,
// elsewhere.
func PgBouncer(t testing.TB, dsn string, sessionAliases ...string) string {
	t.Helper()
	bin, err := exec.LookPath("pgbouncer")
	if err != nil {
		bin, err = exec.LookPath("/usr/sbin/pgbouncer")
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("pgbouncer is not installed (run .ci/pooler-deps; make test does)")
		}
		t.Skip("pgbouncer is not installed: run .ci/pooler-deps (make test does)")
	}
	up, err := url.Parse(dsn)
	if err != nil || (up.Scheme != "postgres" && up.Scheme != "postgresql") {
		t.Fatalf("PgBouncer needs DATABASE_URL as a postgres:// URL, got %q", dsn)
	}
	q := up.Query()
	host, port := q.Get("host"), q.Get("port")
	if host == "" {
		host = up.Hostname()
	}
	if port == "" {
		port = up.Port()
	}
	if port == "" {
		port = "5432"
	}
	dbname := strings.TrimPrefix(up.Path, "/")

	// pgbouncer runs as postgres when the tests run as root: it must read
	// its files and write its log here (t.TempDir's parent is 0700).
	dir, err := os.MkdirTemp("", "pgbouncer-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	listen := freePort(t)
	var dbs strings.Builder
	fmt.Fprintf(&dbs, "* = host=%s port=%s\n", host, port)
	for _, a := range sessionAliases {
		// A session-mode pool holds a server connection per client
		// connection: a client pool larger than pool_size waits (up to
		// query_wait_timeout, 2 min) for one to close.
		fmt.Fprintf(&dbs, "%s = host=%s port=%s dbname=%s pool_mode=session pool_size=8\n", a, host, port, dbname)
	}
	ini := fmt.Sprintf(`[databases]
%s
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = trust
auth_file = %s
pool_mode = transaction
default_pool_size = 6
max_client_conn = 1000
ignore_startup_parameters = extra_float_digits
logfile = %s
pidfile = %s
`, dbs.String(), listen, filepath.Join(dir, "users.txt"), filepath.Join(dir, "pgbouncer.log"), filepath.Join(dir, "pgbouncer.pid"))
	for name, body := range map[string]string{"pgbouncer.ini": ini, "users.txt": `"postgres" ""` + "\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, filepath.Join(dir, "pgbouncer.ini"))
	// It dies with the test binary, even one killed by -timeout before
	// its cleanups run.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if os.Geteuid() == 0 {
		// pgbouncer refuses to run as root.
		pg, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("pgbouncer cannot run as root and there is no postgres user: %v", err)
		}
		uid, _ := strconv.ParseUint(pg.Uid, 10, 32)
		gid, _ := strconv.ParseUint(pg.Gid, 10, 32)
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start pgbouncer: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGINT) // pgbouncer's immediate shutdown
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			if b, err := os.ReadFile(filepath.Join(dir, "pgbouncer.log")); err == nil {
				t.Logf("pgbouncer.log (last 4 KB):\n%s", b[max(0, len(b)-4096):])
			}
		}
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(listen))
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		select {
		case err := <-exited:
			b, _ := os.ReadFile(filepath.Join(dir, "pgbouncer.log"))
			t.Fatalf("pgbouncer exited: %v\n%s", err, b)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("pgbouncer is not listening on %s after 10 s", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return (&url.URL{Scheme: "postgres", User: url.User("postgres"), Host: addr, Path: "/" + dbname,
		RawQuery: "sslmode=disable"}).String()
}

// PgBouncerAlias is the URL PgBouncer returned with another database name:
// one of its session-mode aliases.
func PgBouncerAlias(pooled, alias string) string {
	u, err := url.Parse(pooled)
	if err != nil {
		panic(err)
	}
	u.Path = "/" + alias
	return u.String()
}

// freePort is a loopback TCP port nothing listens on now.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
