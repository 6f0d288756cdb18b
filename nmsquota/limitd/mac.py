"""The limit protocol's login: a challenge, and the response only the secret's holder can give.

Two modes with the same exchange:

- `des`, the paper's: a DES-CBC MAC of the challenge. The secret's first 8 bytes are the key
  (through BSD bdes's set-up for ASCII keys: each byte's high bit becomes the odd parity of
  its low seven), the next 8 the IV, NUL-padded; the challenge is NUL-padded to whole 8-byte
  blocks; the 64-bit MAC is written as 11 characters of `./0-9A-Za-z`, six bits at a time from
  the most significant, the last padded with two zero bits. Kept for the paper's clients.
  DES has a 56-bit key and falls to a brute-force search today.
- `hmac-sha256`, the one to choose: HMAC-SHA256 of the challenge keyed by the whole secret,
  written in the same alphabet (43 characters).

The challenge is made from the process ID, the clock and a sequence number that grows with
every attempt, so no two logins see the same one and a recorded response is worthless.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Literal

from Crypto.Cipher import DES

Mode = Literal["des", "hmac-sha256"]
ALPHABET = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def challenge(pid: int, now: float, sequence: int) -> str:
    """E.g. "3f2a.1732364800.7": process ID in hex, the clock in seconds, the attempt."""
    return f"{pid:x}.{int(now)}.{sequence}"


def response(mode: Mode, secret: str, challenge_text: str) -> str:
    if mode == "des":
        return des_mac(secret.encode(), challenge_text.encode())
    digest = hmac.new(secret.encode(), challenge_text.encode(), hashlib.sha256).digest()
    return encode(digest)


def verify(mode: Mode, secret: str, challenge_text: str, answer: str) -> bool:
    return hmac.compare_digest(response(mode, secret, challenge_text), answer)


def des_mac(secret: bytes, message: bytes) -> str:
    key = bytes(_odd_parity_high_bit(b) for b in secret[:8].ljust(8, b"\0"))
    iv = secret[8:16].ljust(8, b"\0")
    padded = message + b"\0" * (-len(message) % 8 or (8 if not message else 0))
    last_block = DES.new(key, DES.MODE_CBC, iv=iv).encrypt(padded)[-8:]
    return encode(last_block)


def _odd_parity_high_bit(byte: int) -> int:
    low = byte & 0x7F
    return low | (0x80 if bin(low).count("1") % 2 == 0 else 0)


def encode(data: bytes) -> str:
    """Six bits per character from the most significant; the last padded with zero bits."""
    bits = len(data) * 8
    count = -(-bits // 6)
    number = int.from_bytes(data, "big") << (count * 6 - bits)
    return "".join(ALPHABET[(number >> (6 * (count - 1 - i))) & 63] for i in range(count))
