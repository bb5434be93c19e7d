"""The fake Bot API answers python-telegram-bot's real client as Telegram does, limits and errors included."""

from __future__ import annotations

import asyncio

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, RetryAfter

from tests.conftest import TG_TOKEN
from tests.fakes.telegram_api import FakeBotAPI

CHAT = 4_200_001


def bot_for(fake: FakeBotAPI, token: str = TG_TOKEN) -> Bot:
    """The real client, pointed at the fake."""
    return Bot(token, base_url=f"{fake.url}/bot", base_file_url=f"{fake.url}/file/bot")


async def test_every_method_loa_ban_uses(fake_telegram: FakeBotAPI) -> None:
    async with bot_for(fake_telegram) as bot:
        me = await bot.get_me()
        assert me.is_bot and me.username == "LoaBanTestBot"
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Có", callback_data="yes")]])
        sent = await bot.send_message(CHAT, "Xin chào", reply_markup=keyboard)
        assert sent.message_id == 1 and sent.reply_markup == keyboard
        assert (await bot.send_message(CHAT, "lần hai")).message_id == 2, "ids count per chat"
        assert (await bot.send_message(CHAT + 1, "chat khác")).message_id == 1
        edited = await bot.edit_message_text(
            "Đã sửa", chat_id=CHAT, message_id=sent.message_id, reply_markup=keyboard
        )
        assert (
            edited.message_id == sent.message_id
            and edited.text == "Đã sửa"
            and edited.reply_markup == keyboard
        )
        bare = await bot.edit_message_reply_markup(
            chat_id=CHAT, message_id=sent.message_id, reply_markup=None
        )
        assert isinstance(bare, Message) and bare.reply_markup is None
        with pytest.raises(BadRequest, match=r"(?i)not modified"):
            await bot.edit_message_text("Đã sửa", chat_id=CHAT, message_id=sent.message_id)
        with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
            await bot.edit_message_text("?", chat_id=CHAT, message_id=999)
        assert await bot.answer_callback_query("cb-1")
        assert await bot.send_chat_action(CHAT, "record_voice")

        voice = await bot.send_voice(CHAT, b"OggS fake opus bytes", caption="Bản tin")
        assert voice.voice is not None and voice.caption == "Bản tin"
        again = await bot.send_voice(CHAT, voice.voice.file_id)  # re-sent by file_id, no upload
        assert again.voice is not None and again.voice.file_id == voice.voice.file_id
        photo = await bot.send_photo(CHAT, b"\x89PNG fake")
        assert photo.photo and photo.photo[-1].width == 320
        audio = await bot.send_audio(CHAT, b"ID3 fake mp3")
        document = await bot.send_document(CHAT, b"%PDF fake", filename="so-tay.pdf", caption="Sổ tay")
        assert audio.audio is not None and document.document is not None and document.caption == "Sổ tay"
        assert (document.document.file_name, document.document.mime_type) == ("so-tay.pdf", "application/pdf")
        assert document.document.file_size == len(b"%PDF fake")
        poll = await bot.send_poll(CHAT, "Bạn đã nghe bản tin chưa?", ["Rồi", "Chưa"])
        assert poll.poll is not None and [o.text for o in poll.poll.options] == ["Rồi", "Chưa"]

        file_id = fake_telegram.add_file(b"voice note from a villager", "voice")
        telegram_file = await bot.get_file(file_id)
        assert bytes(await telegram_file.download_as_bytearray()) == b"voice note from a villager"

        assert await bot.set_webhook("https://loaban.example.org/webhooks/telegram", secret_token="s")
        with pytest.raises(Conflict):
            await bot.get_updates()
        assert await bot.delete_webhook()
        fake_telegram.push_update(
            {
                "update_id": 7,
                "message": {
                    "message_id": 1,
                    "date": 0,
                    "chat": {"id": CHAT, "type": "private"},
                    "text": "hi",
                },
            }
        )
        updates = await bot.get_updates(offset=0, timeout=1)
        assert [u.update_id for u in updates] == [7]
        assert await bot.get_updates(offset=8, timeout=0) == ()


async def test_errors_are_telegrams(fake_telegram: FakeBotAPI) -> None:
    async with bot_for(fake_telegram) as bot:
        with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
            await bot.send_message(CHAT, " ")
        with pytest.raises(BadRequest, match=r"(?i)message is too long"):
            await bot.send_message(CHAT, "a" * 4097)
        with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
            await bot.get_file("nope")
        fake_telegram.blocked.add(CHAT)
        with pytest.raises(Forbidden, match=r"(?i)blocked by the user"):
            await bot.send_message(CHAT, "xin chào")
    with pytest.raises(InvalidToken):
        async with bot_for(fake_telegram, "999:WRONG") as wrong:
            await wrong.get_me()


async def test_limits_answer_429_with_retry_after() -> None:
    fake = FakeBotAPI(TG_TOKEN, chat_burst=1, global_rate=3, group_per_minute=20).start()
    try:
        async with bot_for(fake) as bot:
            await bot.send_message(CHAT, "một")
            with pytest.raises(RetryAfter) as per_chat:
                await bot.send_message(CHAT, "hai")
            assert per_chat.value.retry_after == 1
            await asyncio.sleep(1.05)
            await bot.send_message(CHAT, "hai")  # allowed again after retry_after
            with pytest.raises(RetryAfter):  # 3/s overall: other chats are refused too now
                for chat in range(CHAT + 1, CHAT + 5):
                    await bot.send_message(chat, "tin")
        group = FakeBotAPI(TG_TOKEN, group_per_minute=20).start()
        try:
            async with bot_for(group) as bot:
                for _ in range(20):
                    await bot.send_message(-100123, "nhóm")
                with pytest.raises(RetryAfter) as per_group:
                    await bot.send_message(-100123, "quá 20 tin/phút")
                assert per_group.value.retry_after >= 1
        finally:
            group.stop()
    finally:
        fake.stop()


async def test_quiz_polls_are_checked_stopped_and_answered_as_telegram_does(
    fake_telegram: FakeBotAPI,
) -> None:
    async with bot_for(fake_telegram) as bot:
        quiz = await bot.send_poll(
            CHAT,
            "Tảo hôn là gì?",
            ["A. Chưa đủ tuổi", "B. Đủ tuổi"],
            is_anonymous=False,
            type="quiz",
            correct_option_ids=[0],
            explanation="Luật Hôn nhân và gia đình",
        )
        assert quiz.poll is not None and quiz.poll.type == "quiz" and not quiz.poll.is_anonymous
        assert quiz.poll.correct_option_ids == (0,) and quiz.poll.explanation == "Luật Hôn nhân và gia đình"
        for refused in (
            {"question": "?" * 301, "options": ["A", "B"], "correct_option_ids": [0]},
            {"question": "Câu?", "options": ["A"], "correct_option_ids": [0]},
            {"question": "Câu?", "options": ["A", "B" * 101], "correct_option_ids": [0]},
            {"question": "Câu?", "options": ["A", "B"]},
            {"question": "Câu?", "options": ["A", "B"], "correct_option_ids": [2]},
            {"question": "Câu?", "options": ["A", "B"], "correct_option_ids": [0], "explanation": "x" * 201},
        ):
            with pytest.raises(BadRequest):
                await bot.send_poll(CHAT, is_anonymous=False, type="quiz", **refused)  # type: ignore[arg-type]
        fake_telegram.vote(quiz.poll.id, CHAT, 1)
        with pytest.raises(AssertionError, match="one answer"):
            fake_telegram.vote(quiz.poll.id, CHAT, 0)
        stopped = await bot.stop_poll(CHAT, quiz.message_id)
        assert stopped.is_closed and stopped.total_voter_count == 1 and stopped.options[1].voter_count == 1
        with pytest.raises(BadRequest, match="already been closed"):
            await bot.stop_poll(CHAT, quiz.message_id)
        with pytest.raises(AssertionError, match="closed"):
            fake_telegram.vote(quiz.poll.id, CHAT + 1, 0)
        anonymous = await bot.send_poll(CHAT, "Ẩn danh?", ["Có", "Không"])
        assert anonymous.poll is not None
        with pytest.raises(AssertionError, match="anonymous"):
            fake_telegram.vote(anonymous.poll.id, CHAT, 0)
