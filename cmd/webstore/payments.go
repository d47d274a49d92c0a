package main

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/jmoiron/sqlx"

	"webstore/db"
	"webstore/web"
	"webstore/web/payments"
	"webstore/web/payments/cardgw"
	"webstore/web/payments/linepay"
)

// The payment providers come from the configuration (config: LINEPAY_*,
// CARDGW_*). In development, a provider whose API URL is unset is the
// project's local sandbox, mounted on this process under /sandbox/linepay
// or /sandbox/card and reached at selfURL, this process's own listener (the
// sandboxes keep their state in the app's database, so a payment made
// through one process is there for the next), with the sandbox's public
// secrets. In production no sandbox is ever mounted: checkProduction has
// refused to start without every provider setting. A sandbox's tables are
// its own, not the app's migrations': whoever serves a sandbox applies its
// migrations first (migrateSandboxes).
const (
	linePaySandboxPath = "/sandbox/linepay"
	cardSandboxPath    = "/sandbox/card"
)

// providers builds the clients, the store's gateway over them, and the web
// configuration that mounts whichever sandboxes stand in for them. Links
// the app hands out are built on BASE_URL, or in development (where
// checkProduction lets it be unset) on selfURL, the listen address: never
// on a request's Host header.
func providers(c config, d *sqlx.DB, selfURL string) (web.Config, payments.Gateway) {
	cfg := web.Config{Production: c.Production, SecureCookies: c.Production, BaseURL: or(c.BaseURL, selfURL), TrustedProxies: c.TrustedProxies}
	hc := providerHTTP()
	lp := &linepay.Client{
		BaseURL:       or(c.LinePay.APIURL, selfURL+linePaySandboxPath),
		ChannelID:     or(c.LinePay.ChannelID, "1656000000"),
		ChannelSecret: or(c.LinePay.ChannelSecret, "sandbox-channel-secret"),
		HTTP:          hc,
	}
	if c.LinePay.APIURL == "" && !c.Production {
		cfg.SandboxLinePay = linepay.NewSandbox(d, linepay.SandboxConfig{ChannelID: lp.ChannelID,
			ChannelSecret: lp.ChannelSecret, BasePath: linePaySandboxPath})
	}
	cards := &cardgw.Client{
		BaseURL:   or(c.Cards.APIURL, selfURL+cardSandboxPath),
		SecretKey: or(c.Cards.SecretKey, "sk_sandbox"),
		HTTP:      hc,
	}
	cfg.CardPublicKey = or(c.Cards.PublicKey, "pk_sandbox")
	if c.Cards.APIURL == "" && !c.Production {
		cfg.SandboxCards = cardgw.NewSandbox(d, cardgw.SandboxConfig{PublicKey: cfg.CardPublicKey,
			SecretKey: cards.SecretKey, BasePath: cardSandboxPath})
	}
	cfg.LinePay, cfg.Cards = lp, cards
	lineLogin(&cfg, c, d, selfURL)
	return cfg, payments.Gateway{LinePay: lp, Cards: cards}
}

// providerTimeout bounds one call to a payment provider, from dialling to
// the last byte of the answer. A payment without an answer in time stays
// pending and is asked again, under the same key, by the sweep.
const providerTimeout = 30 * time.Second

// providerHTTP is the client both providers are called through: each
// stage of a call is bounded, and so are the connections to one provider.
func providerHTTP() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSHandshakeTimeout = 10 * time.Second
	t.ResponseHeaderTimeout = providerTimeout
	t.MaxConnsPerHost = 32
	t.MaxIdleConnsPerHost = 8
	return &http.Client{Timeout: providerTimeout, Transport: t}
}

// or is v, or def when v is empty.
func or(v, def string) string {
	if v != "" {
		return v
	}
	return def
}

// migrateSandboxes applies the migrations of the sandboxes cfg mounts, and
// returns how many it applied.
func migrateSandboxes(ctx context.Context, d *sqlx.DB, cfg web.Config) (applied int, err error) {
	for _, s := range []struct {
		mounted bool
		migrate func(context.Context, *sqlx.DB) (int, error)
	}{{cfg.SandboxLinePay != nil, linepay.Migrate}, {cfg.SandboxCards != nil, cardgw.Migrate}} {
		if !s.mounted {
			continue
		}
		n, err := s.migrate(ctx, d)
		if err != nil {
			return applied, err
		}
		applied += n
	}
	return applied, nil
}

// loopbackProviders is providers for a command that pays but serves no
// pages (collect): the sandboxes, where used, are served on a loopback port
// until stop is called.
func loopbackProviders(ctx context.Context, c config, d *sqlx.DB) (gw payments.Gateway, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return payments.Gateway{}, nil, err
	}
	cfg, gw := providers(c, d, listenURL(ln.Addr()))
	if _, err := migrateSandboxes(ctx, d, cfg); err != nil {
		ln.Close()
		return payments.Gateway{}, nil, err
	}
	mux := http.NewServeMux()
	if cfg.SandboxLinePay != nil {
		mux.Handle(linePaySandboxPath+"/", cfg.SandboxLinePay)
	}
	if cfg.SandboxCards != nil {
		mux.Handle(cardSandboxPath+"/", cfg.SandboxCards)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	return gw, func() { srv.Close() }, nil
}

// usePayments gives s the payment providers (loopbackProviders) for a
// command that pays; stop ends the sandboxes' loopback server.
func usePayments(ctx context.Context, c config, s *db.Store) (stop func(), err error) {
	gw, stop, err := loopbackProviders(ctx, c, s.DB)
	if err != nil {
		return nil, err
	}
	s.Payments = gw
	return stop, nil
}
