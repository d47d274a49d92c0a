package lineauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Person is someone the sandbox can sign in as.
type Person struct {
	Subject string // the LINE user id the ID token carries
	Name    string
}

// SandboxConfig configures the LINE Login sandbox.
type SandboxConfig struct {
	// Issuer is the sandbox's own URL (where it is mounted, absolute):
	// discovery, tokens and the app's client all name it.
	Issuer        string
	BasePath      string // the path it is mounted under, e.g. /sandbox/line-login
	ChannelID     string
	ChannelSecret string
	// People lists who may sign in (the demo people).
	People func(ctx context.Context) ([]Person, error)
	Clock  func() time.Time
}

// sandbox is a small OpenID Connect provider speaking LINE Login's flow:
// discovery, an authorize page listing the demo people, the token endpoint
// (client secret and PKCE checked, one use per code), and its signing keys.
// Its key and codes live in the process: tokens it signs verify only
// against the same process, which is what a development server needs.
type sandbox struct {
	cfg   SandboxConfig
	key   *ecdsa.PrivateKey
	kid   string
	mu    sync.Mutex
	codes map[string]grant
	mux   *http.ServeMux
}

type grant struct {
	redirectURI string
	person      Person
	nonce       string
	challenge   string
	expires     time.Time
}

// NewSandbox returns the sandbox's handler.
func NewSandbox(cfg SandboxConfig) (http.Handler, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	s := &sandbox{cfg: cfg, key: key, kid: rand.Text()[:12], codes: map[string]grant{}, mux: http.NewServeMux()}
	base := strings.TrimSuffix(cfg.BasePath, "/")
	s.mux.HandleFunc("GET "+base+"/.well-known/openid-configuration", s.discovery)
	s.mux.HandleFunc("GET "+base+"/authorize", s.authorizePage)
	s.mux.HandleFunc("POST "+base+"/authorize", s.authorize)
	s.mux.HandleFunc("POST "+base+"/token", s.token)
	s.mux.HandleFunc("GET "+base+"/certs", s.certs)
	return s, nil
}

func (s *sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (s *sandbox) discovery(w http.ResponseWriter, r *http.Request) {
	iss := s.cfg.Issuer
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer": iss, "authorization_endpoint": iss + "/authorize", "token_endpoint": iss + "/token", "jwks_uri": iss + "/certs",
		"response_types_supported": []string{"code"}, "subject_types_supported": []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"ES256"}, "code_challenge_methods_supported": []string{"S256"},
		"scopes_supported": []string{"openid", "profile"}, "token_endpoint_auth_methods_supported": []string{"client_secret_post", "client_secret_basic"},
	})
}

func (s *sandbox) certs(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &s.key.PublicKey, KeyID: s.kid, Algorithm: "ES256", Use: "sig"}}})
}

// request checks an authorization request's parameters; it returns a
// message for the person when they are not acceptable.
func (s *sandbox) request(q url.Values) string {
	switch {
	case q.Get("response_type") != "code":
		return "response_type must be code"
	case q.Get("client_id") != s.cfg.ChannelID:
		return "unknown client_id (channel)"
	case q.Get("redirect_uri") == "" || q.Get("state") == "":
		return "redirect_uri and state are required"
	case !strings.Contains(" "+q.Get("scope")+" ", " openid "):
		return "scope must include openid"
	case q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256":
		return "PKCE (code_challenge with S256) is required"
	}
	return ""
}

var pageTmpl = template.Must(template.New("authorize").Parse(`<!DOCTYPE html>
<html lang="zh-Hant"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>LINE Login (sandbox)</title><link rel="stylesheet" href="/static/app.css"></head>
<body><main class="page">
<h1>LINE Login</h1>
<p class="note">本機測試用的 LINE Login 沙盒:請選擇要登入的示範使用者。Sandbox: choose who signs in.</p>
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{else}}
<form method="post" class="card">
{{range $k, $v := .Query}}{{range $v}}<input type="hidden" name="{{$k}}" value="{{.}}">{{end}}{{end}}
<div class="stack">
{{range .People}}<button class="btn block" type="submit" name="subject" value="{{.Subject}}" data-testid="line-person-{{.Subject}}">{{.Name}}</button>
{{end}}</div>
<div class="field"><label for="new_name">新的 LINE 使用者的名稱 A new LINE user's name</label>
<input type="text" id="new_name" name="new_name" value="新朋友" maxlength="40" data-testid="line-new-name"></div>
<div class="stack">
<button class="btn block" type="submit" name="subject" value="new" data-testid="line-new-person">新的 LINE 使用者 A new LINE user</button>
<button class="btn secondary block" type="submit" name="cancel" value="1" data-testid="line-cancel">取消 Cancel</button>
</div>
</form>{{end}}
</main></body></html>`))

func (s *sandbox) authorizePage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	data := struct {
		Query  url.Values
		People []Person
		Error  string
	}{Query: q, Error: s.request(q)}
	if data.Error == "" {
		var err error
		if data.People, err = s.cfg.People(r.Context()); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if data.Error != "" {
		w.WriteHeader(http.StatusBadRequest)
	}
	pageTmpl.Execute(w, data)
}

func (s *sandbox) authorize(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	q := r.PostForm
	if msg := s.request(q); msg != "" {
		http.Error(w, msg, http.StatusBadRequest)
		return
	}
	back, err := url.Parse(q.Get("redirect_uri"))
	if err != nil {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	v := url.Values{"state": {q.Get("state")}}
	if q.Get("cancel") != "" {
		v.Set("error", "access_denied")
		v.Set("error_description", "The user cancelled")
	} else {
		who, err := s.person(r.Context(), q)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if who == nil {
			http.Error(w, "no such person", http.StatusBadRequest)
			return
		}
		code := rand.Text()
		s.mu.Lock()
		s.codes[code] = grant{redirectURI: q.Get("redirect_uri"), person: *who, nonce: q.Get("nonce"),
			challenge: q.Get("code_challenge"), expires: s.cfg.Clock().Add(10 * time.Minute)}
		s.mu.Unlock()
		v.Set("code", code)
	}
	back.RawQuery = v.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// NewSubject is the "new LINE user" choice: a LINE user id no one has
// signed in with before.
const NewSubject = "new"

// person is who the authorize form chose: one of the listed people, or a
// new LINE user (a fresh subject, named as typed); nil for anyone else.
func (s *sandbox) person(ctx context.Context, q url.Values) (*Person, error) {
	if q.Get("subject") == NewSubject {
		var b [16]byte
		rand.Read(b[:])
		name := strings.TrimSpace(q.Get("new_name"))
		if name == "" {
			name = "新朋友"
		}
		return &Person{Subject: "U" + hex.EncodeToString(b[:]), Name: name}, nil
	}
	people, err := s.cfg.People(ctx)
	if err != nil {
		return nil, err
	}
	for i := range people {
		if people[i].Subject == q.Get("subject") {
			return &people[i], nil
		}
	}
	return nil, nil
}

func (s *sandbox) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	id, secret, ok := r.BasicAuth()
	if ok {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != s.cfg.ChannelID || subtle.ConstantTimeCompare([]byte(secret), []byte(s.cfg.ChannelSecret)) != 1 {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	if r.PostForm.Get("grant_type") != "authorization_code" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	code := r.PostForm.Get("code")
	s.mu.Lock()
	g, found := s.codes[code]
	delete(s.codes, code) // a code is good once
	s.mu.Unlock()
	now := s.cfg.Clock()
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	switch {
	case !found || now.After(g.expires) || g.redirectURI != r.PostForm.Get("redirect_uri"):
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
		return
	case base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "code_verifier does not match"})
		return
	}
	idToken, err := s.sign(map[string]any{"iss": s.cfg.Issuer, "sub": g.person.Subject, "aud": s.cfg.ChannelID,
		"exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "nonce": g.nonce, "name": g.person.Name, "amr": []string{"linesso"}})
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "server_error"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"access_token": rand.Text(), "token_type": "Bearer", "expires_in": 2592000,
		"scope": "openid profile", "id_token": idToken})
}

// sign makes a compact ES256 JWS of claims.
func (s *sandbox) sign(claims map[string]any) (string, error) {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: s.key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", s.kid))
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}
