"""argparse, answering in Japanese: usage, help and every error a user can cause.

argparse looks up each message through its module-level `_` / `ngettext` (gettext) when it
is used; the parser below puts a Japanese catalogue there only while it parses or formats,
so other parsers in the same process (pytest's) are left as they are. Names argparse would
derive from `dest` (MONTH, DATA_DIR, file) get Japanese metavars, so usage lines have no
English either.
"""

from __future__ import annotations

import argparse
import contextlib
import sys

MESSAGES = {
    "usage: ": "使い方: ",
    "positional arguments": "引数",
    "options": "オプション",
    "show this help message and exit": "この説明を表示して終わります",
    "%(prog)s: error: %(message)s\n": "%(prog)s: エラー: %(message)s\n",
    "argument %(argument_name)s: %(message)s": "%(argument_name)s の指定: %(message)s",
    "the following arguments are required: %s": "次の指定が必要です: %s",
    "one of the arguments %s is required": "%s のどれかを指定してください",
    "unrecognized arguments: %s": "わからない指定があります: %s",
    "invalid choice: %(value)r (choose from %(choices)s)": "「%(value)s」は使えません。次のどれかです: %(choices)s",
    "invalid %(type)s value: %(value)r": "「%(value)s」は数として読めません",
    "expected one argument": "値を1つ続けてください",
    "expected at most one argument": "値は1つまでです",
    "expected at least one argument": "値を1つ以上続けてください",
    "expected %s argument": "値を%s個続けてください",
    "expected %s arguments": "値を%s個続けてください",
    "not allowed with argument %s": "%s と一緒には指定できません",
    "ambiguous option: %(option)s could match %(matches)s": "%(option)s は %(matches)s のどれのことか決められません。全部書いてください",
    "ignored explicit argument %r": "%r は値を取りません",
    "unknown parser %(parser_name)r (choices: %(choices)s)": "コマンド「%(parser_name)s」はありません。次のどれかです: %(choices)s",
    "unexpected option string: %s": "思いがけないオプションです: %s",
}

# what a value stands for, by dest: shown in usage instead of MONTH, DATA_DIR, file …
METAVARS = {
    "file": "ファイル",
    "name": "名前",
    "username": "ユーザー名",
    "month": "年月",
    "data_dir": "フォルダ",
    "out": "フォルダ",
    "work": "フォルダ",
    "user": "名前",
    "users_file": "ファイル",
    "limit": "件数",
    "municipality": "市町村",
    "prefecture": "都道府県",
    "district": "地区",
    "ingest_rows": "行数",
    "sessions": "数",
    "param": "キー=値",
    "action": "操作",
    "to": "フォルダ",
    "source": "フォルダ",
    "keep": "数",
}


def _gettext(message: str) -> str:
    return MESSAGES.get(message, message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return _gettext(singular if n == 1 else plural)


@contextlib.contextmanager
def japanese():
    """argparse's messages in Japanese while inside (restored after, also when nested)."""
    saved = argparse._, argparse.ngettext
    argparse._, argparse.ngettext = _gettext, _ngettext
    try:
        yield
    finally:
        argparse._, argparse.ngettext = saved


class ArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage, help and errors are Japanese. Subcommands made with
    add_subparsers().add_parser() are of this class too."""

    def __init__(self, *args, **kwargs):
        with japanese():  # group titles and the -h help are made here
            super().__init__(*args, **kwargs)

    def _add_action(self, action):
        # every argument passes here, also those of a mutually exclusive group
        if (
            action.metavar is None
            and action.nargs != 0
            and action.dest in METAVARS
            and (not action.option_strings or action.choices is None)
        ):
            action.metavar = METAVARS[action.dest]  # a positional is named even with choices
            if action.choices is not None and action.help is None:
                action.help = "次のどれか: " + "、".join(map(str, action.choices))
        return super()._add_action(action)

    def parse_known_args(self, args=None, namespace=None):
        with japanese():
            return super().parse_known_args(args, namespace)

    def parse_args(self, args=None, namespace=None):
        with japanese():
            return super().parse_args(args, namespace)

    def format_usage(self) -> str:
        with japanese():
            return super().format_usage()

    def format_help(self) -> str:
        with japanese():
            return super().format_help()

    def error(self, message: str):
        with japanese():
            self.print_usage(sys.stderr)
            self.exit(2, _gettext("%(prog)s: error: %(message)s\n") % {"prog": self.prog, "message": message})
