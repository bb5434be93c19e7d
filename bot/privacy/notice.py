"""The privacy notice people agree to, and its version: a person who agreed to another text is asked again."""

from __future__ import annotations

import hashlib

from bot.i18n import mark

NOTICE = mark(
    "Trước khi bắt đầu, xin bạn đọc điều này:\n"
    "• Nếu bạn đồng ý, Loa Bản lưu tên bạn (nếu ứng dụng cho biết), ngôn ngữ, nơi ở, tin nhắn, câu hỏi và "
    "phản ánh của bạn (cả ảnh, ghi âm, vị trí bạn gửi) để gửi bản tin, trả lời bạn và chuyển phản ánh đến "
    "cán bộ.\n"
    "• Chỉ cán bộ phụ trách xã, tỉnh của bạn được xem. Không bán, không đưa cho người khác.\n"
    "• Nếu không đồng ý, bạn vẫn nhận bản tin và hỏi được, nhưng không kèm tên.\n"
    "• Trong Cài đặt, bạn xem được dữ liệu Loa Bản giữ về bạn, ngừng nhận tin hoặc xóa dữ liệu "
    "bất cứ lúc nào.\n"
    "Bạn có đồng ý không?"
)
NOTICE_DATE = "2026-12-06"  # the day the text above took effect, for people and officials to read


def version(text: str, day: str) -> str:
    """A version that changes whenever the text does, even if nobody remembers to move the date."""
    return f"{day}.{hashlib.sha256(text.encode()).hexdigest()[:8]}"


PRIVACY_VERSION = version(NOTICE, NOTICE_DATE)
