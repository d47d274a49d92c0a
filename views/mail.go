package views

import "strings"

// MailText is a message's plain-text part, from the same model as MailHTML.
func MailText(v MailView) string {
	var b strings.Builder
	b.WriteString(greeting(v) + "\n\n")
	b.WriteString(v.Intro + "\n\n")
	w := width(v.Total[0])
	for _, l := range v.Lines {
		w = max(w, width(l[0]))
	}
	line := func(l [2]string) {
		b.WriteString(l[0] + strings.Repeat(" ", w-width(l[0])+2) + l[1] + "\n")
	}
	for _, l := range v.Lines {
		line(l)
	}
	if v.Total[0] != "" {
		b.WriteString(strings.Repeat("-", w+14) + "\n")
		line(v.Total)
	}
	if len(v.Lines) > 0 {
		b.WriteString("\n")
	}
	if v.Note != "" {
		b.WriteString(v.Note + "\n\n")
	}
	if v.Link != "" {
		b.WriteString(v.LinkText + ": " + v.Link + "\n\n")
	}
	b.WriteString(v.Lang.T("此為系統自動發送的郵件,請勿直接回覆。", "This message was sent automatically; please do not reply to it.") + "\n")
	return b.String()
}

func greeting(v MailView) string {
	if v.Greeting != "" {
		return v.Greeting
	}
	return v.Lang.T("親愛的 ", "Dear ") + v.Account + v.Lang.T(" 管理員您好:", " admin,")
}

// width is how many columns s takes in a fixed-width font: CJK characters
// and full-width forms take two.
func width(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x1100 && (r <= 0x115f || r >= 0x2e80 && r <= 0xa4cf || r >= 0xac00 && r <= 0xd7a3 || r >= 0xf900 && r <= 0xfaff ||
			r >= 0xfe30 && r <= 0xfe4f || r >= 0xff00 && r <= 0xff60 || r >= 0xffe0 && r <= 0xffe6) {
			n += 2
		} else {
			n++
		}
	}
	return n
}
