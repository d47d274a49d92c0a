package views

import "strings"

// MailText is a message's plain-text part, from the same model as MailHTML.
func MailText(v MailView) string {
	var b strings.Builder
	b.WriteString(v.Lang.T("親愛的 ", "Dear ") + v.Account + v.Lang.T(" 管理員您好:", " admin,") + "\n\n")
	b.WriteString(v.Intro + "\n\n")
	w := len([]rune(v.Total[0]))
	for _, l := range v.Lines {
		w = max(w, len([]rune(l[0])))
	}
	line := func(l [2]string) {
		b.WriteString(l[0] + strings.Repeat(" ", w-len([]rune(l[0]))+2) + l[1] + "\n")
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
