"""E-mail over SMTP (smtplib): UTF-8, a text and an HTML part.

At-least-once: SMTP cannot be asked whether a message was delivered. The Message-ID is derived
from the notification's dedupe key, so a duplicate after a crash carries the same Message-ID and
mail clients/servers that deduplicate on it show it once.
"""

from __future__ import annotations

import smtplib
import ssl
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

from alerting import messages
from alerting.channels.base import Channel, Note, SendError
from yuqing.settings import secret


class EmailChannel(Channel):
    type = "email"

    def recipients(self, note: Note) -> list[str]:
        out = list(self.config.mail_to)
        out += [p.email for p in note.recipients if p.email and p.email not in out]
        return out

    def build(self, note: Note, now: datetime) -> EmailMessage:
        sender = self.config.mail_from or "yuqing@localhost"
        msg = EmailMessage()
        msg["Subject"] = messages.title(note.payload)
        msg["From"] = sender
        msg["To"] = ", ".join(self.recipients(note))
        msg["Date"] = format_datetime(now)
        domain = sender.rpartition("@")[2] or "localhost"
        msg["Message-ID"] = f"<yuqing-{note.idempotency_key}@{domain}>"
        msg.set_content(messages.plain_text(note.payload, now), charset="utf-8")
        msg.add_alternative(messages.email_html(note.payload, now), subtype="html", charset="utf-8")
        return msg

    def send(self, note: Note, now: datetime) -> str | None:
        cfg = self.config
        if not cfg.smtp_host:
            raise SendError(f"通道 {self.name} 未配置 smtp_host", permanent=True)
        to = self.recipients(note)
        if not to:
            raise SendError(f"通道 {self.name} 没有收件人（mail_to 为空且值班人员无邮箱）", permanent=True)
        msg = self.build(note, now)
        user = secret(cfg.smtp_user_env, self.settings)
        password = secret(cfg.smtp_password_env, self.settings)
        try:
            smtp_cls = smtplib.SMTP_SSL if cfg.smtp_port == 465 else smtplib.SMTP
            with smtp_cls(cfg.smtp_host, cfg.smtp_port, timeout=cfg.timeout_seconds) as smtp:
                if cfg.smtp_starttls and smtp_cls is smtplib.SMTP:
                    smtp.starttls(context=ssl.create_default_context())
                if user and password:
                    smtp.login(user, password)
                refused = smtp.send_message(msg, to_addrs=to)
        except smtplib.SMTPRecipientsRefused:
            raise SendError("邮件服务器拒绝了全部收件人", permanent=True) from None
        except smtplib.SMTPAuthenticationError:
            raise SendError("邮件服务器认证失败（检查用户名/密码环境变量）", permanent=True) from None
        except smtplib.SMTPResponseException as exc:
            raise SendError(f"邮件服务器返回 {exc.smtp_code}", permanent=500 <= exc.smtp_code < 600) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise SendError(f"无法连接邮件服务器 {cfg.smtp_host}:{cfg.smtp_port}: {type(exc).__name__}") from None
        if refused:
            return f"partial:{len(to) - len(refused)}/{len(to)}"
        return str(msg["Message-ID"])
