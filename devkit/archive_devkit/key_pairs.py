"""RSA key pairs as Snowflake's key-pair authentication takes them (PKCS#8, maybe encrypted)."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

PASSPHRASE = "correct horse battery staple"  # noqa: S105 - test keys only


def new_rsa_key() -> rsa.RSAPrivateKey:
    """A fresh 2048-bit key (Snowflake's documented minimum)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def der(key: rsa.RSAPrivateKey) -> bytes:
    """The unencrypted PKCS#8 DER bytes (what the connector takes as `private_key`)."""
    return key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def encrypted_pem(key: rsa.RSAPrivateKey, passphrase: str = PASSPHRASE) -> str:
    """The PEM a user's `rsa_key.p8` holds after `openssl pkcs8 -topk8 -v2 aes256`."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase.encode()),
    ).decode()


def public_pem(key: rsa.RSAPrivateKey) -> str:
    """The public key as `openssl rsa -pubout` writes it (its body is the RSA_PUBLIC_KEY)."""
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
