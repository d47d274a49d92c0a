package main

import (
	"github.com/jmoiron/sqlx"

	"webstore/web"
	"webstore/web/lineauth"
)

// lineLoginSandboxPath is where the LINE Login sandbox is mounted in
// development, while LINE_LOGIN_ISSUER is unset.
const lineLoginSandboxPath = "/sandbox/line-login"

// lineLogin sets up LINE Login on cfg: the client for the channel in the
// settings, or, in development while they are unset, for the local sandbox
// (mounted on this server, listing the demo people with a LINE account).
// selfURL is where this server is reached; the callback is on BASE_URL
// when set.
func lineLogin(cfg *web.Config, c config, d *sqlx.DB, selfURL string) {
	s := c.LineLogin
	cl := &lineauth.Client{Issuer: s.Issuer, ChannelID: s.ChannelID, ChannelSecret: s.ChannelSecret,
		RedirectURL: or(c.BaseURL, selfURL) + "/signin/line/callback", HTTP: providerHTTP()}
	if s.Issuer == "" {
		if c.Production {
			return // refused earlier by checkProduction
		}
		cl.Issuer, cl.ChannelID, cl.ChannelSecret = selfURL+lineLoginSandboxPath, "2000000000", "sandbox-line-login-secret"
		sb, err := lineauth.NewSandbox(lineauth.SandboxConfig{Issuer: cl.Issuer, BasePath: lineLoginSandboxPath,
			ChannelID: cl.ChannelID, ChannelSecret: cl.ChannelSecret,
			People: web.LinePeople(d)})
		if err != nil {
			return
		}
		cfg.SandboxLineLogin = sb
	}
	cfg.LineLogin = cl
}
