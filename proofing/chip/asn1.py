"""ASN.1 shapes of the chip's files (ICAO Doc 9303 part 10 and 11), declared for asn1crypto.

Only declarations live here; asn1crypto does the BER/DER decoding and encoding. Tags:

====== ======= ===========================================================================
file   tag     content
====== ======= ===========================================================================
DG1    ``61``  ``5F1F`` the machine-readable zone (TD1: three lines of 30 characters)
DG2    ``75``  ``7F61`` biometric information group: ``02`` count, ``7F60`` one template
               (``A1`` header, ``5F2E`` the ISO/IEC 19794-5 face record with the image)
DG13   ``6D``  Vietnam's personal data: numbered UTF-8 items (1 ID number, 2 full name,
               3 date of birth ``dd/mm/yyyy``, 4 sex, 8 place of origin, 9 residence)
DG14   ``6E``  SecurityInfos (BSI TR-03110): which protocols the chip supports
DG15   ``6F``  SubjectPublicKeyInfo: the chip's active-authentication public key
SOD    ``77``  CMS ContentInfo / SignedData over an LDSSecurityObject (the DG hashes)
====== ======= ===========================================================================
"""

from __future__ import annotations

from asn1crypto import algos, cms, core, keys

__all__ = [
    "DG1",
    "DG2",
    "DG13",
    "DG14",
    "DG15",
    "LDS_SECURITY_OBJECT_OID",
    "SOD",
    "ActiveAuthenticationInfo",
    "BiometricHeader",
    "BiometricInfoGroup",
    "BiometricInfoTemplate",
    "DataGroupHash",
    "LDSSecurityObject",
    "PersonalDataItem",
    "SecurityInfo",
]

#: eContentType of the SOD's signed content (id-icao-mrtd-security-ldsSecurityObject).
LDS_SECURITY_OBJECT_OID = "2.23.136.1.1.1"

_APPLICATION = 1


class DG1(core.Sequence):
    class_ = _APPLICATION
    tag = 1
    _fields = [("mrz", core.PrintableString, {"implicit": ("application", 31)})]


class BiometricHeader(core.Sequence):
    # Biometric header template (``A1``): only the fields a face record needs.
    _fields = [
        ("version", core.OctetString, {"implicit": 0, "optional": True}),
        ("biometric_type", core.OctetString, {"implicit": 1, "optional": True}),
        ("biometric_subtype", core.OctetString, {"implicit": 2, "optional": True}),
        ("creation_date", core.OctetString, {"implicit": 3, "optional": True}),
        ("validity_period", core.OctetString, {"implicit": 5, "optional": True}),
        ("creator", core.OctetString, {"implicit": 6, "optional": True}),
        ("format_owner", core.OctetString, {"implicit": 7}),
        ("format_type", core.OctetString, {"implicit": 8}),
    ]


class BiometricInfoTemplate(core.Sequence):
    class_ = _APPLICATION
    tag = 96  # 7F60
    _fields = [
        ("header", BiometricHeader, {"implicit": 1}),
        ("data", core.OctetString, {"implicit": ("application", 46)}),  # 5F2E
    ]


class BiometricInfoGroup(core.Sequence):
    class_ = _APPLICATION
    tag = 97  # 7F61
    _fields = [("count", core.Integer), ("template", BiometricInfoTemplate)]


class DG2(core.Sequence):
    class_ = _APPLICATION
    tag = 21  # 75
    _fields = [("group", BiometricInfoGroup)]


class PersonalDataItem(core.Sequence):
    _fields = [("index", core.Integer), ("value", core.UTF8String)]


class DG13(core.SequenceOf):
    class_ = _APPLICATION
    tag = 13
    _child_spec = PersonalDataItem


class SecurityInfo(core.Sequence):
    _fields = [
        ("protocol", core.ObjectIdentifier),
        ("required_data", core.Any),
        ("optional_data", core.Any, {"optional": True}),
    ]


class ActiveAuthenticationInfo(core.Sequence):
    # id-AA: the chip's active authentication, with the signature algorithm for ECDSA keys.
    _fields = [
        ("protocol", core.ObjectIdentifier),
        ("version", core.Integer),
        ("signature_algorithm", core.ObjectIdentifier, {"optional": True}),
    ]


class _SecurityInfos(core.SetOf):
    _child_spec = SecurityInfo


class DG14(_SecurityInfos):
    explicit = (_APPLICATION, 14)


class DG15(keys.PublicKeyInfo):
    explicit = (_APPLICATION, 15)


class DataGroupHash(core.Sequence):
    _fields = [("number", core.Integer), ("hash", core.OctetString)]


class _DataGroupHashes(core.SequenceOf):
    _child_spec = DataGroupHash


class LDSSecurityObject(core.Sequence):
    _fields = [
        ("version", core.Integer),
        ("hash_algorithm", algos.DigestAlgorithm),
        ("hashes", _DataGroupHashes),
        ("lds_version_info", core.Any, {"optional": True}),
    ]


class SOD(cms.ContentInfo):
    explicit = (_APPLICATION, 23)
