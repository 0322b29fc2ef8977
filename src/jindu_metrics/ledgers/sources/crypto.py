"""Encrypted workbooks: recognised by their OLE directory, decrypted in memory only (msoffcrypto-tool)."""

from __future__ import annotations

import io
import re
from pathlib import Path

from ...errors import InputError
from .sheet import ENCRYPTED_NO_PASSWORD, ENCRYPTED_UNSUPPORTED, OLE_MAGIC, ZIP_MAGIC, Password


def _fail(path: str, reason: str) -> InputError:
    return InputError(reason, file=path)


def ole_encrypted_package(path: Path) -> bool:
    """An OLE2 container holding an encrypted OOXML package (EncryptionInfo / EncryptedPackage streams),
    by its directory (olefile), wherever the writer put it; by the stream names in the first MB when the
    directory cannot be read."""
    import olefile

    try:
        with olefile.OleFileIO(str(path)) as ole:
            return ole.exists("EncryptionInfo") or ole.exists("EncryptedPackage")
    except Exception:  # noqa: BLE001 - a damaged container: its names, where they usually are
        with open(path, "rb") as fh:
            data = fh.read(min(path.stat().st_size, 1 << 20))
        return "EncryptionInfo".encode("utf-16-le") in data or "EncryptedPackage".encode("utf-16-le") in data


_HASHES = frozenset({"SHA1", "SHA256", "SHA384", "SHA512"})  # what msoffcrypto-tool derives keys with
_HASH_ATTR = re.compile(rb'hashAlgorithm="([^"]*)"')


def agile_hash_known(path: Path) -> bool:
    """Whether the hash algorithms an agile EncryptionInfo names (its XML) are ones the decryption knows;
    True for the other schemes (standard, binary) and when the stream cannot be read (decrypt words it)."""
    import olefile

    try:
        with olefile.OleFileIO(str(path)) as ole:
            info = ole.openstream("EncryptionInfo").read(1 << 16)
    except Exception:  # noqa: BLE001 - decrypt() words what is wrong
        return True
    return all(h.decode("ascii", "replace") in _HASHES for h in _HASH_ATTR.findall(info))


def decrypt(source: Path | bytes, name: str, password: Password) -> bytes:
    """The decrypted workbook (xlsx or xls), in memory only. `password` as for read_file; a function is
    asked again after a wrong password, three times at most."""
    import inspect

    import msoffcrypto
    from msoffcrypto import exceptions as mx

    data = source if isinstance(source, bytes) else source.read_bytes()
    for attempt in range(3):
        given = password(name, attempt) if callable(password) else password
        if not given:
            raise _fail(name, ENCRYPTED_NO_PASSWORD)
        try:
            office = msoffcrypto.OfficeFile(io.BytesIO(data))
            if "verify_password" in inspect.signature(office.load_key).parameters:  # OOXML; .xls checks it anyway
                office.load_key(password=given, verify_password=True)
            else:
                office.load_key(password=given)
            out = io.BytesIO()
            office.decrypt(out)
            plain = out.getvalue()
            if not plain.startswith((ZIP_MAGIC, OLE_MAGIC)):  # decrypted by a scheme it did not understand
                raise _fail(name, ENCRYPTED_UNSUPPORTED)
            return plain
        except (mx.InvalidKeyError, mx.DecryptionError) as exc:
            wrong = isinstance(exc, mx.InvalidKeyError) or "password" in str(exc).lower() \
                or "key" in str(exc).lower()
            if not wrong:
                raise _fail(name, ENCRYPTED_UNSUPPORTED) from None
            if not callable(password):
                break
        except (KeyboardInterrupt, SystemExit, InputError):
            raise
        except BaseException:  # noqa: BLE001 - never the exception's text: it could quote the input
            raise _fail(name, ENCRYPTED_UNSUPPORTED) from None
    raise _fail(name, "打开密码不正确（文件已加密）")
