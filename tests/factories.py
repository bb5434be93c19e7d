"""Real-shaped Telegram Update payloads, as the Bot API posts them to a webhook."""

from __future__ import annotations

import io
import itertools
import os
import time
from typing import Any

from PIL import Image

_update_ids = itertools.count(100_000)
_message_ids = itertools.count(1)


def user(chat_id: int, first_name: str = "A Páo", language_code: str = "vi") -> dict[str, Any]:
    """A Telegram User who talks to the bot in a private chat (user id == chat id)."""
    return {"id": chat_id, "is_bot": False, "first_name": first_name, "language_code": language_code}


def _message(chat_id: int, first_name: str, **content: Any) -> dict[str, Any]:
    """A private-chat Message."""
    return {
        "message_id": next(_message_ids),
        "from": user(chat_id, first_name),
        "chat": {"id": chat_id, "first_name": first_name, "type": "private"},
        "date": int(time.time()),
        **content,
    }


def text_update(
    chat_id: int, text: str, first_name: str = "A Páo", update_id: int | None = None
) -> dict[str, Any]:
    """A person typed text (commands get their bot_command entity, as Telegram sends them)."""
    content: dict[str, Any] = {"text": text}
    if text.startswith("/"):
        content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": update_id or next(_update_ids), "message": _message(chat_id, first_name, **content)}


def poll_answer_update(chat_id: int, poll_id: str, option_ids: list[int]) -> dict[str, Any]:
    """A person voted in a non-anonymous poll the bot sent them (an empty list: took the vote back)."""
    return {
        "update_id": next(_update_ids),
        "poll_answer": {
            "poll_id": poll_id,
            "user": user(chat_id),
            "option_ids": option_ids,
            "option_persistent_ids": [str(i) for i in option_ids],  # Bot API 9.6; the fake numbers them so
        },
    }


def callback_update(
    chat_id: int, data: str, message_id: int | None = None, first_name: str = "A Páo"
) -> dict[str, Any]:
    """A person tapped an inline button under one of the bot's messages (`message_id`)."""
    bot_message = {
        "message_id": message_id or next(_message_ids),
        "from": {"id": 7000001, "is_bot": True, "first_name": "Loa Bản", "username": "LoaBanTestBot"},
        "chat": {"id": chat_id, "first_name": first_name, "type": "private"},
        "date": int(time.time()),
        "text": "…",
    }
    return {
        "update_id": next(_update_ids),
        "callback_query": {
            "id": str(next(_update_ids)),
            "from": user(chat_id, first_name),
            "message": bot_message,
            "chat_instance": f"ci{chat_id}",
            "data": data,
        },
    }


def sticker_update(chat_id: int) -> dict[str, Any]:
    """A person sent a sticker."""
    sticker = {
        "file_id": "CAACAgIAAxkBAAIB",
        "file_unique_id": "AgADAgAD",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "emoji": "👍",
    }
    return {"update_id": next(_update_ids), "message": _message(chat_id, "A Páo", sticker=sticker)}


def blocked_update(chat_id: int) -> dict[str, Any]:
    """The person blocked the bot (my_chat_member, new status 'kicked')."""
    return {
        "update_id": next(_update_ids),
        "my_chat_member": {
            "chat": {"id": chat_id, "first_name": "A Páo", "type": "private"},
            "from": user(chat_id),
            "date": int(time.time()),
            "old_chat_member": {
                "user": {"id": 7000001, "is_bot": True, "first_name": "Loa Bản"},
                "status": "member",
            },
            "new_chat_member": {
                "user": {"id": 7000001, "is_bot": True, "first_name": "Loa Bản"},
                "status": "kicked",
                "until_date": 0,
            },
        },
    }


def add_person(
    db: Any,
    urn: str,
    *,
    commune: int,
    province: int,
    language: str = "vi",
    role: str = "villager",
    name: str = "A Páo",
) -> int:
    """A person who finished onboarding (consented) in a commune, straight in the database."""
    from bot.db import utcnow
    from bot.people import service as people
    from bot.people.models import PersonRole
    from bot.privacy.notice import PRIVACY_VERSION

    with db.transaction() as session:
        person, _ = people.get_or_create_by_urn(session, urn)
        person.commune_code, person.province_code, person.language = commune, province, language
        person.role, person.consented_at, person.display_name = PersonRole(role), utcnow(), name
        person.consent_version = PRIVACY_VERSION
        return int(person.id)


def photo_update(chat_id: int, file_id: str, size: int, caption: str = "") -> dict[str, Any]:
    """A person sent a photo (Telegram lists sizes; the last is the largest)."""
    photo = [
        {
            "file_id": f"{file_id}-s",
            "file_unique_id": f"u{file_id}s",
            "width": 90,
            "height": 90,
            "file_size": 900,
        },
        {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "width": 1280,
            "height": 960,
            "file_size": size,
        },
    ]
    content: dict[str, Any] = {"photo": photo} | ({"caption": caption} if caption else {})
    return {"update_id": next(_update_ids), "message": _message(chat_id, "A Páo", **content)}


def voice_update(chat_id: int, file_id: str, size: int, duration: int = 3) -> dict[str, Any]:
    """A person sent a voice note (OGG/Opus, as Telegram records them)."""
    voice = {
        "file_id": file_id,
        "file_unique_id": f"u{file_id}",
        "duration": duration,
        "mime_type": "audio/ogg",
        "file_size": size,
    }
    return {"update_id": next(_update_ids), "message": _message(chat_id, "A Páo", voice=voice)}


def location_update(chat_id: int, latitude: float, longitude: float) -> dict[str, Any]:
    """A person shared a location."""
    location = {"latitude": latitude, "longitude": longitude}
    return {"update_id": next(_update_ids), "message": _message(chat_id, "A Páo", location=location)}


def contact_update(chat_id: int, phone: str, user_id: int | None = None) -> dict[str, Any]:
    """A person shared a phone number with the keyboard's contact button (their own: user id == chat id)."""
    contact = {"phone_number": phone, "first_name": "A Páo", "user_id": user_id or chat_id}
    return {"update_id": next(_update_ids), "message": _message(chat_id, "A Páo", contact=contact)}


def tone(path: Any, seconds: float = 2, codec: str | None = None) -> bytes:
    """A recording as a phone would upload it: a tone made by ffmpeg, in the format `path`'s suffix names."""
    import subprocess

    codec_args = ["-c:a", codec] if codec else []
    source = f"sine=frequency=330:duration={seconds}"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", source, *codec_args, str(path)], check=True)
    return bytes(path.read_bytes())


PNG = bytes.fromhex(  # the smallest valid PNG (one red pixel): a picture a person or an admin sends
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8cfc0f01f00050001ff89993d1d0000000049454e44ae426082"
)


def photo() -> bytes:
    """A real JPEG of random pixels, different every time: a person's own photo."""
    out = io.BytesIO()
    Image.frombytes("RGB", (8, 8), os.urandom(8 * 8 * 3)).save(out, "JPEG")
    return out.getvalue()


def wait_built(db: Any, bulletin_id: int, timeout: float = 30) -> None:
    """Wait until the running builder has queued a sent bulletin's whole outbox."""
    import time

    from bot.bulletins import service as bulletins

    deadline = time.monotonic() + timeout
    while True:
        with db.transaction() as session:
            bulletin = bulletins.get(session, bulletin_id=bulletin_id)
            assert bulletin is not None
            if not bulletin.preparing:
                return
        assert time.monotonic() < deadline, f"bulletin {bulletin_id} never built"
        time.sleep(0.05)


def counted(session: Any, bulletin_id: int) -> dict[str, int]:
    """A bulletin's outbox rows counted one by one, by status (what its progress must say)."""
    from sqlalchemy import func, select

    from bot.bulletins.models import Delivery

    found = session.execute(
        select(Delivery.status, func.count())
        .where(Delivery.bulletin_id == bulletin_id)
        .group_by(Delivery.status)
    )
    return {str(status): n for status, n in found}


def wait_done(db: Any, bulletin_id: int, timeout: float = 30) -> Any:
    """Wait until nothing of a bulletin is left to send and the worker has marked it done; its progress."""
    import time

    from bot.bulletins import service as bulletins
    from bot.bulletins.models import BulletinStatus

    deadline = time.monotonic() + timeout
    while True:
        with db.transaction() as session:
            progress = bulletins.progress(session, bulletin_id)
            bulletin = bulletins.get(session, bulletin_id=bulletin_id)
            assert bulletin is not None
            if progress.pending == 0 and bulletin.status == BulletinStatus.done:
                assert progress.by_status == counted(session, bulletin_id), "the kept counts are the rows"
                return progress
        if time.monotonic() > deadline:
            raise AssertionError(f"bulletin {bulletin_id} not done: {progress}")
        time.sleep(0.05)
