// Package lineauth signs people in with LINE Login, LINE's OpenID Connect
// provider: the authorization-code flow with state, nonce and PKCE, the ID
// token verified against the issuer's published keys (coreos/go-oidc,
// golang.org/x/oauth2). In development a local sandbox (sandbox.go) stands
// in for LINE, as the payment sandboxes do for the payment providers.
package lineauth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Client is LINE Login for one channel.
type Client struct {
	// Issuer is the provider's issuer URL (https://access.line.me for
	// LINE); its discovery document is read on first use.
	Issuer        string
	ChannelID     string
	ChannelSecret string
	// RedirectURL is this app's callback, registered with the channel.
	RedirectURL string
	// HTTP, if set, is the client for discovery, keys and the token
	// exchange (default: one with a 10 s timeout).
	HTTP *http.Client

	mu       sync.Mutex
	provider *oidc.Provider
}

// Flow is one sign-in attempt's secrets, kept by the browser (in a cookie
// only this app reads) between the redirect and the callback.
type Flow struct {
	State    string
	Nonce    string
	Verifier string // PKCE code verifier
}

// NewFlow makes a flow's random values.
func NewFlow() Flow {
	return Flow{State: rand.Text(), Nonce: rand.Text(), Verifier: oauth2.GenerateVerifier()}
}

// Identity is who the provider says signed in.
type Identity struct {
	Subject string // the LINE user id (U…)
	Name    string
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 10 * time.Second}
}

// discover reads the issuer's discovery document once (retrying on a
// later call if it failed: the sandbox may be served by this very process,
// not listening yet when the client is made).
func (c *Client) discover(ctx context.Context) (*oidc.Provider, oauth2.Config, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.provider == nil {
		p, err := oidc.NewProvider(oidc.ClientContext(ctx, c.httpClient()), c.Issuer)
		if err != nil {
			return nil, oauth2.Config{}, fmt.Errorf("LINE Login discovery at %s: %w", c.Issuer, err)
		}
		c.provider = p
	}
	return c.provider, oauth2.Config{ClientID: c.ChannelID, ClientSecret: c.ChannelSecret, RedirectURL: c.RedirectURL,
		Endpoint: c.provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "profile"}}, nil
}

// AuthURL is where the browser goes to sign in with LINE for flow f.
func (c *Client) AuthURL(ctx context.Context, f Flow) (string, error) {
	_, cfg, err := c.discover(ctx)
	if err != nil {
		return "", err
	}
	return cfg.AuthCodeURL(f.State, oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier)), nil
}

// ErrRefused is a callback that does not complete flow f: a state that
// does not match, an error from the provider, an ID token that fails
// verification or carries another nonce.
var ErrRefused = errors.New("LINE Login: the sign-in was not completed")

// Finish completes flow f with the callback's query (state, code or
// error): it checks the state, exchanges the code with the PKCE verifier,
// verifies the ID token (signature by the issuer's keys, issuer, audience
// = the channel, expiry) and its nonce, and returns who signed in.
func (c *Client) Finish(ctx context.Context, f Flow, state, code, providerErr string) (Identity, error) {
	if f.State == "" || state != f.State {
		return Identity{}, fmt.Errorf("%w: state does not match", ErrRefused)
	}
	if providerErr != "" || code == "" {
		return Identity{}, fmt.Errorf("%w: provider said %q", ErrRefused, providerErr)
	}
	p, cfg, err := c.discover(ctx)
	if err != nil {
		return Identity{}, err
	}
	hctx := oidc.ClientContext(ctx, c.httpClient())
	tok, err := cfg.Exchange(hctx, code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return Identity{}, fmt.Errorf("%w: token exchange refused: %v", ErrRefused, err)
		}
		return Identity{}, fmt.Errorf("LINE Login token exchange: %w", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return Identity{}, fmt.Errorf("%w: no ID token", ErrRefused)
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: c.ChannelID}).Verify(hctx, raw)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: %v", ErrRefused, err)
	}
	if idt.Nonce != f.Nonce {
		return Identity{}, fmt.Errorf("%w: nonce does not match", ErrRefused)
	}
	var claims struct {
		Name string `json:"name"`
	}
	if err := idt.Claims(&claims); err != nil {
		return Identity{}, fmt.Errorf("%w: %v", ErrRefused, err)
	}
	return Identity{Subject: idt.Subject, Name: claims.Name}, nil
}
