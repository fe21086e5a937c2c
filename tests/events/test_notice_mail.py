"""A family's notice as an e-mail message (issue 21: written by the hub instead of
``EmailMessage``'s header registry, ~1 ms a message): whatever the text, the stdlib's parser
reads back the same subject, addresses, language and body, in Kyrgyz and Russian as in
English, and no header can be broken into by a title."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from models import NoticeChannel, NoticeLanguage
from resolvers.events.notices import email_message, message_bytes, plain_address
from resolvers.events.templates import TEMPLATES, render

SENDER = "Bilim Hub <noreply@bilim.edu.kg>"


@dataclass
class Row:
    """A notice as the sender claims it."""

    id: int
    channel: NoticeChannel
    address: str | None
    language: NoticeLanguage
    title: str
    body: str


def parsed(data: bytes) -> EmailMessage:
    message = message_from_bytes(data, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def every_text() -> list[tuple[NoticeLanguage, str, str]]:
    values = {
        "application": 123456,
        "institution": "«Балапан» бала бакчасы №17 / Детский сад «Солнышко»",
        "deadline": date(2026, 12, 10),
        "status": "offered",
        "service": "kindergarten",
    }
    found = []
    for name, texts in TEMPLATES.items():
        for language in texts:
            text = render(name, language, **values)
            found.append((language, text.title, text.body))
    return found


class TestTheMessageReadsBack:
    @pytest.mark.parametrize(("language", "title", "body"), every_text())
    def test_every_template_in_both_languages(
        self, language: NoticeLanguage, title: str, body: str
    ) -> None:
        notice = Row(7, NoticeChannel.EMAIL, "mama@example.kg", language, title, body)
        message = parsed(message_bytes(notice, SENDER))
        assert message["Subject"] == title
        assert message["From"] == SENDER
        assert message["To"] == "mama@example.kg"
        assert message["Content-Language"] == str(language)
        assert message["MIME-Version"] == "1.0"
        assert message.get_content_type() == "text/plain"
        assert message.get_content_charset() == "utf-8"
        assert message.get_content() == body + "\n"
        assert "notice-7" in message["Message-ID"]
        assert message["Date"].datetime is not None
        assert not message.defects

    def test_it_says_what_the_e_mail_package_says(self) -> None:
        # the same notice built both ways reads back the same (the Date and Message-ID aside)
        text = render(
            "offer_expiring",
            NoticeLanguage.KY,
            application=1,
            institution="Бала",
            deadline=date(2026, 12, 1),
        )
        notice = Row(
            8, NoticeChannel.EMAIL, "ata@example.kg", NoticeLanguage.KY, text.title, text.body
        )
        ours = parsed(message_bytes(notice, SENDER))
        theirs = parsed(bytes(email_message(notice, SENDER)))
        for header in ("From", "To", "Subject", "Content-Language", "Content-Type"):
            assert ours[header] == theirs[header], header
        assert ours.get_content() == theirs.get_content()

    def test_a_long_title_is_folded_into_words_a_reader_joins_back(self) -> None:
        title = "Срок предложения места в детском саду «Солнышко» истекает через два рабочих дня"
        notice = Row(9, NoticeChannel.EMAIL, "a@example.kg", NoticeLanguage.RU, title, "Текст")
        data = message_bytes(notice, SENDER)
        head = data.split(b"\n\n", 1)[0]
        # RFC 2047: a line holding encoded words is at most 76 characters
        assert max(len(line) for line in head.split(b"\n")) <= 76
        assert head.count(b"=?utf-8?b?") > 1
        assert parsed(data)["Subject"] == title

    @pytest.mark.parametrize(
        "title",
        [
            "Plain ASCII title",
            "Injected\r\nBcc: everyone@example.kg",
            "=?utf-8?b?0J/RgNC40LLQtdGC?= looks encoded",
            " leading and trailing spaces ",
            "A" * 200,
            "Emoji 🎒 and Кыргызча: ң ө ү",
            "",
        ],
    )
    def test_any_title_stays_the_subject_and_nothing_else(self, title: str) -> None:
        notice = Row(10, NoticeChannel.EMAIL, "a@example.kg", NoticeLanguage.KY, title, "x")
        message = parsed(message_bytes(notice, SENDER))
        assert message["Subject"] == title
        assert message["Bcc"] is None
        assert message["To"] == "a@example.kg"

    def test_the_body_keeps_its_lines_whatever_their_ends(self) -> None:
        body = "Биринчи сап\r\nЭкинчи сап\rҮчүнчү сап\n\nБешинчи"
        notice = Row(11, NoticeChannel.EMAIL, "a@example.kg", NoticeLanguage.KY, "T", body)
        content = parsed(message_bytes(notice, SENDER)).get_content()
        assert content == "Биринчи сап\nЭкинчи сап\nҮчүнчү сап\n\nБешинчи\n"

    def test_a_sender_with_a_kyrgyz_name_is_encoded(self) -> None:
        sender = "Билим Хаб <noreply@bilim.edu.kg>"
        notice = Row(12, NoticeChannel.EMAIL, "a@example.kg", NoticeLanguage.KY, "T", "x")
        data = message_bytes(notice, sender)
        assert data.isascii()
        assert parsed(data)["From"] == sender


class TestAddresses:
    @pytest.mark.parametrize(
        "address",
        ['"ата эне"@example.kg', "мама@пример.кг", "o'brien+notices@example.kg"],
    )
    def test_an_unusual_address_goes_through_the_header_registry(self, address: str) -> None:
        notice = Row(13, NoticeChannel.EMAIL, address, NoticeLanguage.RU, "Тема", "Текст")
        message = parsed(message_bytes(notice, SENDER))
        assert message["To"].addresses[0].addr_spec == address
        assert message["Subject"] == "Тема"

    def test_plain_addresses(self) -> None:
        assert plain_address("mama@example.kg")
        assert plain_address("o'brien+notices@mail.example.kg")
        assert not plain_address("мама@example.kg")
        assert not plain_address('"a b"@example.kg')
        assert not plain_address("a@example.kg\nBcc: x@example.kg")
        assert not plain_address("a@-example.kg")

    def test_an_sms_kept_in_the_folder_names_its_channel_and_no_address(self) -> None:
        notice = Row(14, NoticeChannel.SMS, "+996 555 123 456", NoticeLanguage.KY, "Т", "Б")
        message = parsed(
            message_bytes(
                notice,
                SENDER,
                to="sms-14@notices.invalid",
                extra=(("X-Bilim-Channel", "sms"),),
            )
        )
        assert message["To"] == "sms-14@notices.invalid"
        assert message["X-Bilim-Channel"] == "sms"
        assert "+996" not in message.as_string()
