"""全国地方公共団体コード (JIS X 0402): a municipality's 5 digits and the check digit after them.

The first two digits are the prefecture's number (JIS X 0401, 01 北海道 … 47 沖縄県), which
also tells a code whose leading 0 Excel dropped (北海道's 011002 typed as a number: 11002).
"""

from __future__ import annotations

from tsunagu.contract.parse import nfkc

# JIS X 0401 in order: the prefecture at index i is number i + 1
PREFECTURES = (
    "北海道",
    "青森県",
    "岩手県",
    "宮城県",
    "秋田県",
    "山形県",
    "福島県",
    "茨城県",
    "栃木県",
    "群馬県",
    "埼玉県",
    "千葉県",
    "東京都",
    "神奈川県",
    "新潟県",
    "富山県",
    "石川県",
    "福井県",
    "山梨県",
    "長野県",
    "岐阜県",
    "静岡県",
    "愛知県",
    "三重県",
    "滋賀県",
    "京都府",
    "大阪府",
    "兵庫県",
    "奈良県",
    "和歌山県",
    "鳥取県",
    "島根県",
    "岡山県",
    "広島県",
    "山口県",
    "徳島県",
    "香川県",
    "愛媛県",
    "高知県",
    "福岡県",
    "佐賀県",
    "長崎県",
    "熊本県",
    "大分県",
    "宮崎県",
    "鹿児島県",
    "沖縄県",
)
_EXAMPLE = "6桁（例: 倉敷市は 332020）か、最後の検査数字を除いた5桁（33202）"


def _short(name: str) -> str:
    return name[:-1] if len(name) > 2 and name[-1] in "都府県" else name


_NUMBERS = {_short(name): f"{i + 1:02d}" for i, name in enumerate(PREFECTURES)}


def prefecture_number(name: str | None) -> str | None:
    """'33' for 岡山県 (or 岡山); None for a name that is not a prefecture's."""
    return _NUMBERS.get(_short(nfkc(name))) if name else None


def check_digit(first5: str) -> str:
    """The sixth digit: 11 minus the weighted sum (6, 5, 4, 3, 2) mod 11, its last digit."""
    total = sum(int(d) * w for d, w in zip(first5, (6, 5, 4, 3, 2)))
    return str((11 - total % 11) % 10)


def is_code(text: str) -> bool:
    """Six digits whose last is the check digit of the first five."""
    return len(text) == 6 and text.isascii() and text.isdigit() and check_digit(text[:5]) == text[5]


def normalise(text: str | None) -> str | None:
    """A code as a link or a command line gives it (5 or 6 digits, full-width too) -> the
    6 digits, or None when it is not one."""
    s = nfkc(text or "")
    if len(s) == 5 and s.isascii() and s.isdigit():
        s += check_digit(s)
    return s if is_code(s) else None


def parse(text: str, prefecture: str | None = None) -> str:
    """A cell of 団体コード -> the 6 digits. Raises ValueError saying, in Japanese, what was
    expected; the row's prefecture (when it is one of the 47) must be the code's."""
    s = nfkc(text)
    if not (s.isascii() and s.isdigit()):
        raise ValueError(f"数字ではありません。全国地方公共団体コードの{_EXAMPLE}を入力してください。")
    number = prefecture_number(prefecture)
    if number is not None and number[0] == "0" and len(s) in (4, 5) and ("0" + s)[:2] == number:
        s = "0" + s  # Excel kept the code as a number and dropped its leading 0
    if len(s) not in (5, 6):
        hint = (
            "Excel で先頭の0が消えた場合は、列を「文字列」にして入れ直してください。" if len(s) == 4 else ""
        )
        raise ValueError(f"{len(s)}桁です。全国地方公共団体コードの{_EXAMPLE}を入力してください。{hint}")
    if len(s) == 6 and check_digit(s[:5]) != s[5]:
        raise ValueError(
            f"検査数字（6桁目）が合いません。最初の5桁が「{s[:5]}」なら6桁目は「{check_digit(s[:5])}」です。"
            "打ち間違いがないか確かめてください。"
        )
    if not 1 <= int(s[:2]) <= len(PREFECTURES):
        raise ValueError(
            f"最初の2桁「{s[:2]}」が都道府県の番号（01〜47）ではありません。団体コードを確かめてください。"
        )
    if number is not None and s[:2] != number:
        raise ValueError(
            f"{PREFECTURES[int(s[:2]) - 1]}の団体コードです（最初の2桁「{s[:2]}」）。この行の都道府県は"
            f"「{prefecture}」（{number}）です。団体コードか都道府県を確かめてください。"
        )
    return s if len(s) == 6 else s + check_digit(s)
