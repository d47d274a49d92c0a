package main

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"

	"webstore/billing"
)

// config is read from the environment once, into one struct, by every
// command:
//
//	DATABASE_URL      the PostgreSQL database (required); may be PgBouncer in
//	                  transaction pooling (statements are pooler-safe, db.Open)
//	JOBS_DATABASE_URL the same database on a connection that keeps its
//	                  session (PostgreSQL directly, or a session-mode pool),
//	                  for what holds a session-level advisory lock or sets
//	                  search_path: migrate, renew, the console's renewal
//	                  runs and simulations (default DATABASE_URL)
//	WEBSTORE_ENV      development or production; unset is production (the
//	                  sandboxes are mounted only on an explicit development)
//	BASE_URL          the app's public URL, e.g. https://billing.example.com;
//	                  links and the providers' return URLs are built on it
//	                  (in development, unset: on the listen address)
//	LINEPAY_API_URL, LINEPAY_CHANNEL_ID, LINEPAY_CHANNEL_SECRET
//	CARDGW_API_URL, CARDGW_PUBLIC_KEY, CARDGW_SECRET_KEY
//	METRICS_ADDR      where serve answers /metrics (off when unset)
//	TRUSTED_PROXIES   comma-separated addresses or CIDR ranges of the
//	                  reverse proxies in front: a request from one of them
//	                  is taken to come from the client its X-Forwarded-For
//	                  names (sign-in throttling is per client address);
//	                  none: no proxy, the peer is the client. Production
//	                  requires it to be set, to a list or to none
//	LINE_LOGIN_ISSUER, LINE_LOGIN_CHANNEL_ID, LINE_LOGIN_CHANNEL_SECRET
//	                  LINE Login (OpenID Connect); the local sandbox while unset
//	CAMPAIGN_MAX_FACE_VALUE
//	                  the highest face value (NT$) staff may give a campaign;
//	                  unset: the highest plan fee in the catalog
//	SMTP_URL, MAIL_FROM
//	                  where serve sends the outbox's e-mail; unset: it waits
//	SELLER_BAN, SELLER_NAME
//	                  who issues the e-invoices: the seller's 統一編號
//	                  (checked with its check digit) and name (≤ 60
//	                  characters); required in production, the demo seller
//	                  in development
//	EINVOICE_MEMBER_CARRIER_TYPE
//	                  the carrier type the platform assigned to the seller's
//	                  member carrier (會員載具), e.g. EJ0113; required in
//	                  production (the 電子發票資訊 form offers it)
//	EINVOICE_DIR      where serve writes the e-invoice messages for Turnkey
//	                  (<dir>/<type>/<number>.xml), every minute; unset: none
//	                  are written by serve (webstore einvoice export does)
//
// In development a provider whose URL is unset is the local sandbox; in
// production every command refuses to start unless every provider setting
// is there, BASE_URL is https and TRUSTED_PROXIES is set
// (checkProduction), before it touches the database. Development must be
// asked for: WEBSTORE_ENV unset is production, so a server started without
// it fails closed (no sandbox anyone could sign in or pay through) and
// says which variable to set.
type config struct {
	DatabaseURL string
	JobsURL     string // JOBS_DATABASE_URL, or DatabaseURL
	Production  bool
	// EnvUnset is set when WEBSTORE_ENV was not given at all (production's
	// rules then apply); the refusal says so.
	EnvUnset       bool
	BaseURL        string
	LinePay        linePaySettings
	Cards          cardSettings
	MetricsAddr    string
	LineLogin      lineLoginSettings
	TrustedProxies []*net.IPNet
	// ProxiesSet: TRUSTED_PROXIES was given (a list, or none).
	ProxiesSet bool
	// MaxFaceValue is CAMPAIGN_MAX_FACE_VALUE (0: the highest plan fee).
	MaxFaceValue billing.Money
	SMTPURL      string
	MailFrom     string
	// Seller issues the e-invoices (SELLER_BAN, SELLER_NAME,
	// EINVOICE_MEMBER_CARRIER_TYPE); billing.DemoSeller in development
	// where unset.
	Seller billing.Seller
	// EInvoiceDir is EINVOICE_DIR.
	EInvoiceDir string
}

type lineLoginSettings struct{ Issuer, ChannelID, ChannelSecret string }

type linePaySettings struct{ APIURL, ChannelID, ChannelSecret string }

type cardSettings struct{ APIURL, PublicKey, SecretKey string }

func loadConfig() (config, error) {
	c := config{
		DatabaseURL: os.Getenv("DATABASE_URL"),
		BaseURL:     strings.TrimSuffix(os.Getenv("BASE_URL"), "/"),
		LinePay: linePaySettings{APIURL: os.Getenv("LINEPAY_API_URL"), ChannelID: os.Getenv("LINEPAY_CHANNEL_ID"),
			ChannelSecret: os.Getenv("LINEPAY_CHANNEL_SECRET")},
		Cards: cardSettings{APIURL: os.Getenv("CARDGW_API_URL"), PublicKey: os.Getenv("CARDGW_PUBLIC_KEY"),
			SecretKey: os.Getenv("CARDGW_SECRET_KEY")},
		MetricsAddr: os.Getenv("METRICS_ADDR"),
		LineLogin: lineLoginSettings{Issuer: strings.TrimSuffix(os.Getenv("LINE_LOGIN_ISSUER"), "/"),
			ChannelID: os.Getenv("LINE_LOGIN_CHANNEL_ID"), ChannelSecret: os.Getenv("LINE_LOGIN_CHANNEL_SECRET")},
		SMTPURL:  os.Getenv("SMTP_URL"),
		MailFrom: or(os.Getenv("MAIL_FROM"), "LINE官方帳號 <no-reply@webstore.localhost>"),
		Seller: billing.Seller{BAN: strings.TrimSpace(os.Getenv("SELLER_BAN")), Name: strings.TrimSpace(os.Getenv("SELLER_NAME")),
			MemberCarrierType: strings.TrimSpace(os.Getenv("EINVOICE_MEMBER_CARRIER_TYPE"))},
		EInvoiceDir: os.Getenv("EINVOICE_DIR"),
	}
	switch env := os.Getenv("WEBSTORE_ENV"); env {
	case "development":
	case "":
		c.Production, c.EnvUnset = true, true
	case "production":
		c.Production = true
	default:
		return c, usageError{fmt.Errorf("WEBSTORE_ENV is %q: want development or production", env)}
	}
	if c.DatabaseURL == "" {
		return c, usageError{errors.New("DATABASE_URL is not set (make run sets up a local PostgreSQL for you)")}
	}
	c.JobsURL = or(os.Getenv("JOBS_DATABASE_URL"), c.DatabaseURL)
	if c.BaseURL != "" {
		if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return c, usageError{fmt.Errorf("BASE_URL is %q: want an absolute URL such as https://billing.example.com", c.BaseURL)}
		}
	}
	if v := strings.TrimSpace(os.Getenv("CAMPAIGN_MAX_FACE_VALUE")); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 || billing.Money(n) > billing.MaxTypedMoney {
			return c, usageError{fmt.Errorf("CAMPAIGN_MAX_FACE_VALUE is %q: want a whole number of NT$ from 1 to %d", v, int64(billing.MaxTypedMoney))}
		}
		c.MaxFaceValue = billing.Money(n)
	}
	if !c.Production {
		// Development fills what is unset from the demo seller.
		d := billing.DemoSeller
		c.Seller.BAN, c.Seller.Name, c.Seller.MemberCarrierType = or(c.Seller.BAN, d.BAN), or(c.Seller.Name, d.Name), or(c.Seller.MemberCarrierType, d.MemberCarrierType)
	}
	if c.Seller.BAN != "" && c.Seller.Name != "" && c.Seller.MemberCarrierType != "" {
		if err := c.Seller.Validate(); err != nil {
			return c, usageError{fmt.Errorf("SELLER_BAN, SELLER_NAME, EINVOICE_MEMBER_CARRIER_TYPE: %v", err)}
		}
	}
	proxies := strings.TrimSpace(os.Getenv("TRUSTED_PROXIES"))
	c.ProxiesSet = proxies != ""
	if strings.EqualFold(proxies, "none") {
		proxies = ""
	}
	for _, p := range strings.Split(proxies, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if ip := net.ParseIP(p); ip != nil {
			bits := 8 * len(ip.To16())
			if ip.To4() != nil {
				ip, bits = ip.To4(), 32
			}
			c.TrustedProxies = append(c.TrustedProxies, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
			continue
		}
		_, n, err := net.ParseCIDR(p)
		if err != nil {
			return c, usageError{fmt.Errorf("TRUSTED_PROXIES: %q is neither an address nor a CIDR range", p)}
		}
		c.TrustedProxies = append(c.TrustedProxies, n)
	}
	return c, c.checkProduction()
}

// checkProduction refuses, in production, a configuration that would fall
// back to a sandbox (whose secrets are public) or send cookies and
// provider secrets over plain http. It names everything missing at once.
func (c config) checkProduction() error {
	if !c.Production {
		return nil
	}
	var missing []string
	for _, s := range []struct{ name, value string }{
		{"LINEPAY_API_URL", c.LinePay.APIURL}, {"LINEPAY_CHANNEL_ID", c.LinePay.ChannelID},
		{"LINEPAY_CHANNEL_SECRET", c.LinePay.ChannelSecret}, {"CARDGW_API_URL", c.Cards.APIURL},
		{"CARDGW_PUBLIC_KEY", c.Cards.PublicKey}, {"CARDGW_SECRET_KEY", c.Cards.SecretKey}, {"BASE_URL", c.BaseURL},
		{"LINE_LOGIN_ISSUER", c.LineLogin.Issuer}, {"LINE_LOGIN_CHANNEL_ID", c.LineLogin.ChannelID},
		{"LINE_LOGIN_CHANNEL_SECRET", c.LineLogin.ChannelSecret},
		{"SELLER_BAN", c.Seller.BAN}, {"SELLER_NAME", c.Seller.Name}, {"EINVOICE_MEMBER_CARRIER_TYPE", c.Seller.MemberCarrierType},
	} {
		if s.value == "" {
			missing = append(missing, s.name)
		}
	}
	if !c.ProxiesSet {
		missing = append(missing, "TRUSTED_PROXIES (the reverse proxies' addresses, or none)")
	}
	var problems []string
	if len(missing) > 0 {
		problems = append(problems, "not set: "+strings.Join(missing, ", "))
	}
	var plain []string
	for _, s := range []struct{ name, value string }{
		{"BASE_URL", c.BaseURL}, {"LINEPAY_API_URL", c.LinePay.APIURL}, {"CARDGW_API_URL", c.Cards.APIURL},
		{"LINE_LOGIN_ISSUER", c.LineLogin.Issuer},
	} {
		if s.value != "" && !strings.HasPrefix(s.value, "https://") {
			plain = append(plain, s.name)
		}
	}
	if len(plain) > 0 {
		problems = append(problems, "not https: "+strings.Join(plain, ", "))
	}
	if len(problems) > 0 {
		if c.EnvUnset {
			return usageError{fmt.Errorf("WEBSTORE_ENV is not set, so production's rules apply and it refuses to start: %s (set WEBSTORE_ENV=development for the local payment and LINE Login sandboxes, as make run does)",
				strings.Join(problems, "; "))}
		}
		return usageError{fmt.Errorf("WEBSTORE_ENV=production refuses to start: %s (the payment and LINE Login sandboxes are for development only)",
			strings.Join(problems, "; "))}
	}
	return nil
}
