package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"webstore/db"
	"webstore/web/mail"
)

// startMail starts the outbox worker when SMTP_URL names an SMTP server
// (`make run` starts Mailpit and sets it): receipts, failed-payment alerts
// and reminders are sent from the outbox every few seconds, with links to
// BASE_URL (or this server). Without SMTP_URL messages wait in the outbox
// until a server with it runs. MAIL_FROM sets the sender.
func startMail(ctx context.Context, c config, s *db.Store, self string, jobs *sync.WaitGroup, log io.Writer) error {
	if c.SMTPURL == "" {
		fmt.Fprintln(log, "webstore: SMTP_URL is unset: e-mail waits in the outbox")
		return nil
	}
	smtp, err := mail.NewSMTP(c.SMTPURL)
	if err != nil {
		return usageError{err}
	}
	w := &mail.Worker{Store: s, Sender: smtp, From: c.MailFrom, BaseURL: or(c.BaseURL, self)}
	jobs.Go(func() { w.Run(ctx, 5*time.Second) })
	return nil
}
