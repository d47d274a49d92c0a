package main

import (
	"net"
	"net/http"
	"os"

	"github.com/jmoiron/sqlx"

	"webstore/web"
	"webstore/web/payments"
	"webstore/web/payments/cardgw"
	"webstore/web/payments/linepay"
)

// The payment providers come from the environment:
//
//	LINEPAY_API_URL, LINEPAY_CHANNEL_ID, LINEPAY_CHANNEL_SECRET
//	CARDGW_API_URL, CARDGW_PUBLIC_KEY, CARDGW_SECRET_KEY
//
// With an *_API_URL unset, the provider is the project's local sandbox,
// mounted on this process under /sandbox/linepay or /sandbox/card and
// reached at selfURL, this process's own listener (the sandboxes keep
// their state in the app's database, so a payment made through one process
// is there for the next).
const (
	linePaySandboxPath = "/sandbox/linepay"
	cardSandboxPath    = "/sandbox/card"
)

// providers builds the clients, the store's gateway over them, and the web
// configuration that mounts whichever sandboxes stand in for them.
func providers(d *sqlx.DB, selfURL string) (web.Config, payments.Gateway) {
	var cfg web.Config
	lp := &linepay.Client{
		BaseURL:       envOr("LINEPAY_API_URL", selfURL+linePaySandboxPath),
		ChannelID:     envOr("LINEPAY_CHANNEL_ID", "1656000000"),
		ChannelSecret: envOr("LINEPAY_CHANNEL_SECRET", "sandbox-channel-secret"),
	}
	if os.Getenv("LINEPAY_API_URL") == "" {
		cfg.SandboxLinePay = linepay.NewSandbox(d, linepay.SandboxConfig{ChannelID: lp.ChannelID,
			ChannelSecret: lp.ChannelSecret, BasePath: linePaySandboxPath})
	}
	cards := &cardgw.Client{
		BaseURL:   envOr("CARDGW_API_URL", selfURL+cardSandboxPath),
		SecretKey: envOr("CARDGW_SECRET_KEY", "sk_sandbox"),
	}
	cfg.CardPublicKey = envOr("CARDGW_PUBLIC_KEY", "pk_sandbox")
	if os.Getenv("CARDGW_API_URL") == "" {
		cfg.SandboxCards = cardgw.NewSandbox(d, cardgw.SandboxConfig{PublicKey: cfg.CardPublicKey,
			SecretKey: cards.SecretKey, BasePath: cardSandboxPath})
	}
	cfg.LinePay, cfg.Cards = lp, cards
	return cfg, payments.Gateway{LinePay: lp, Cards: cards}
}

// loopbackProviders is providers for a command that pays but serves no
// pages (collect): the sandboxes, where used, are served on a loopback port
// until stop is called.
func loopbackProviders(d *sqlx.DB) (gw payments.Gateway, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return payments.Gateway{}, nil, err
	}
	cfg, gw := providers(d, listenURL(ln.Addr()))
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
