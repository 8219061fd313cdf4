"""What every command shares: its context and a parser that errs in one line."""

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

from sqlalchemy.engine import Engine

from services.config import Settings


@dataclass(frozen=True)
class Context:
    settings: Settings
    engine: Engine


# A handler returns the JSON document and the lines a person reads instead.
Handler = Callable[[argparse.Namespace, Context], tuple[Any, str]]


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One clear line instead of argparse's usage dump.
        self.exit(2, f"error: {message} (see '{self.prog} --help')\n")
