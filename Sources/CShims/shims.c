#include "CShims.h"

long sem_BIO_get_mem_data(BIO *bio, char **out) { return BIO_get_mem_data(bio, out); }
void sem_OPENSSL_free(void *ptr) { OPENSSL_free(ptr); }

STACK_OF(X509) *sem_sk_X509_new_null(void) { return sk_X509_new_null(); }
int sem_sk_X509_push(STACK_OF(X509) *stack, X509 *cert) { return sk_X509_push(stack, cert); }
int sem_sk_X509_num(const STACK_OF(X509) *stack) { return sk_X509_num(stack); }
X509 *sem_sk_X509_value(const STACK_OF(X509) *stack, int index) { return sk_X509_value(stack, index); }
void sem_sk_X509_free(STACK_OF(X509) *stack) { sk_X509_free(stack); }
void sem_sk_X509_pop_free(STACK_OF(X509) *stack) { sk_X509_pop_free(stack, X509_free); }

STACK_OF(X509_CRL) *sem_sk_X509_CRL_new_null(void) { return sk_X509_CRL_new_null(); }
int sem_sk_X509_CRL_push(STACK_OF(X509_CRL) *stack, X509_CRL *crl) { return sk_X509_CRL_push(stack, crl); }
void sem_sk_X509_CRL_free(STACK_OF(X509_CRL) *stack) { sk_X509_CRL_free(stack); }

int sem_sk_GENERAL_NAME_num(const GENERAL_NAMES *names) { return sk_GENERAL_NAME_num(names); }
GENERAL_NAME *sem_sk_GENERAL_NAME_value(const GENERAL_NAMES *names, int index) {
    return sk_GENERAL_NAME_value(names, index);
}
void sem_GENERAL_NAMES_free(GENERAL_NAMES *names) { GENERAL_NAMES_free(names); }

int sem_sk_CMS_SignerInfo_num(STACK_OF(CMS_SignerInfo) *stack) { return sk_CMS_SignerInfo_num(stack); }
CMS_SignerInfo *sem_sk_CMS_SignerInfo_value(STACK_OF(CMS_SignerInfo) *stack, int index) {
    return sk_CMS_SignerInfo_value(stack, index);
}
int sem_sk_CMS_RecipientInfo_num(STACK_OF(CMS_RecipientInfo) *stack) { return sk_CMS_RecipientInfo_num(stack); }
CMS_RecipientInfo *sem_sk_CMS_RecipientInfo_value(STACK_OF(CMS_RecipientInfo) *stack, int index) {
    return sk_CMS_RecipientInfo_value(stack, index);
}

int sem_sk_X509_REVOKED_num(const STACK_OF(X509_REVOKED) *stack) { return sk_X509_REVOKED_num(stack); }
X509_REVOKED *sem_sk_X509_REVOKED_value(const STACK_OF(X509_REVOKED) *stack, int index) {
    return sk_X509_REVOKED_value(stack, index);
}

int sem_sk_OPENSSL_STRING_num(STACK_OF(OPENSSL_STRING) *stack) { return sk_OPENSSL_STRING_num(stack); }
const char *sem_sk_OPENSSL_STRING_value(STACK_OF(OPENSSL_STRING) *stack, int index) {
    return sk_OPENSSL_STRING_value(stack, index);
}

long sem_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return SSL_CTX_set_min_proto_version(ctx, version);
}
long sem_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version) {
    return SSL_CTX_set_max_proto_version(ctx, version);
}
long sem_SSL_CTX_set_mode(SSL_CTX *ctx, long mode) { return SSL_CTX_set_mode(ctx, mode); }
long sem_SSL_set_tlsext_host_name(SSL *ssl, const char *name) { return SSL_set_tlsext_host_name(ssl, name); }

/* X.509 extensions, CSR, CRL and OCSP (SEMCrypto/X509) */
int sem_sk_GENERAL_NAME_push(GENERAL_NAMES *names, GENERAL_NAME *name) { return sk_GENERAL_NAME_push(names, name); }
int sem_sk_ASN1_OBJECT_num(const STACK_OF(ASN1_OBJECT) *stack) { return sk_ASN1_OBJECT_num(stack); }
ASN1_OBJECT *sem_sk_ASN1_OBJECT_value(const STACK_OF(ASN1_OBJECT) *stack, int index) {
    return sk_ASN1_OBJECT_value(stack, index);
}
int sem_sk_ASN1_OBJECT_push(STACK_OF(ASN1_OBJECT) *stack, ASN1_OBJECT *object) {
    return sk_ASN1_OBJECT_push(stack, object);
}
int sem_sk_POLICYINFO_num(const STACK_OF(POLICYINFO) *stack) { return sk_POLICYINFO_num(stack); }
POLICYINFO *sem_sk_POLICYINFO_value(const STACK_OF(POLICYINFO) *stack, int index) {
    return sk_POLICYINFO_value(stack, index);
}
int sem_sk_POLICYINFO_push(STACK_OF(POLICYINFO) *stack, POLICYINFO *info) { return sk_POLICYINFO_push(stack, info); }
int sem_sk_DIST_POINT_num(const STACK_OF(DIST_POINT) *stack) { return sk_DIST_POINT_num(stack); }
DIST_POINT *sem_sk_DIST_POINT_value(const STACK_OF(DIST_POINT) *stack, int index) {
    return sk_DIST_POINT_value(stack, index);
}
int sem_sk_DIST_POINT_push(STACK_OF(DIST_POINT) *stack, DIST_POINT *point) { return sk_DIST_POINT_push(stack, point); }
int sem_sk_ACCESS_DESCRIPTION_num(const STACK_OF(ACCESS_DESCRIPTION) *stack) {
    return sk_ACCESS_DESCRIPTION_num(stack);
}
ACCESS_DESCRIPTION *sem_sk_ACCESS_DESCRIPTION_value(const STACK_OF(ACCESS_DESCRIPTION) *stack, int index) {
    return sk_ACCESS_DESCRIPTION_value(stack, index);
}
int sem_sk_ACCESS_DESCRIPTION_push(STACK_OF(ACCESS_DESCRIPTION) *stack, ACCESS_DESCRIPTION *description) {
    return sk_ACCESS_DESCRIPTION_push(stack, description);
}
STACK_OF(X509_EXTENSION) *sem_sk_X509_EXTENSION_new_null(void) { return sk_X509_EXTENSION_new_null(); }
int sem_sk_X509_EXTENSION_num(const STACK_OF(X509_EXTENSION) *stack) { return sk_X509_EXTENSION_num(stack); }
X509_EXTENSION *sem_sk_X509_EXTENSION_value(const STACK_OF(X509_EXTENSION) *stack, int index) {
    return sk_X509_EXTENSION_value(stack, index);
}
int sem_sk_X509_EXTENSION_push(STACK_OF(X509_EXTENSION) *stack, X509_EXTENSION *extension) {
    return sk_X509_EXTENSION_push(stack, extension);
}
void sem_sk_X509_EXTENSION_pop_free(STACK_OF(X509_EXTENSION) *stack) {
    sk_X509_EXTENSION_pop_free(stack, X509_EXTENSION_free);
}

/* CMS / S/MIME */
int sem_cms_sk_X509_ALGOR_num(const STACK_OF(X509_ALGOR) *stack) { return sk_X509_ALGOR_num(stack); }
X509_ALGOR *sem_cms_sk_X509_ALGOR_value(const STACK_OF(X509_ALGOR) *stack, int index) {
    return sk_X509_ALGOR_value(stack, index);
}
void sem_cms_sk_X509_ALGOR_pop_free(STACK_OF(X509_ALGOR) *stack) { sk_X509_ALGOR_pop_free(stack, X509_ALGOR_free); }
STACK_OF(GENERAL_NAMES) *sem_cms_sk_GENERAL_NAMES_new_null(void) { return sk_GENERAL_NAMES_new_null(); }
int sem_cms_sk_GENERAL_NAMES_push(STACK_OF(GENERAL_NAMES) *stack, GENERAL_NAMES *names) {
    return sk_GENERAL_NAMES_push(stack, names);
}
int sem_cms_sk_GENERAL_NAMES_num(const STACK_OF(GENERAL_NAMES) *stack) { return sk_GENERAL_NAMES_num(stack); }
GENERAL_NAMES *sem_cms_sk_GENERAL_NAMES_value(const STACK_OF(GENERAL_NAMES) *stack, int index) {
    return sk_GENERAL_NAMES_value(stack, index);
}
void sem_cms_sk_GENERAL_NAMES_pop_free(STACK_OF(GENERAL_NAMES) *stack) {
    sk_GENERAL_NAMES_pop_free(stack, GENERAL_NAMES_free);
}
int sem_cms_sk_ASN1_TYPE_num(const STACK_OF(ASN1_TYPE) *stack) { return sk_ASN1_TYPE_num(stack); }
ASN1_TYPE *sem_cms_sk_ASN1_TYPE_value(const STACK_OF(ASN1_TYPE) *stack, int index) {
    return sk_ASN1_TYPE_value(stack, index);
}
void sem_cms_sk_ASN1_TYPE_pop_free(STACK_OF(ASN1_TYPE) *stack) { sk_ASN1_TYPE_pop_free(stack, ASN1_TYPE_free); }
int sem_cms_sk_CMS_RecipientEncryptedKey_num(STACK_OF(CMS_RecipientEncryptedKey) *stack) {
    return sk_CMS_RecipientEncryptedKey_num(stack);
}
CMS_RecipientEncryptedKey *sem_cms_sk_CMS_RecipientEncryptedKey_value(STACK_OF(CMS_RecipientEncryptedKey) *stack,
                                                                       int index) {
    return sk_CMS_RecipientEncryptedKey_value(stack, index);
}

// MARK: CMS version consistency (federation trust lists and all SignedData)
#include <string.h>
// Walks the TLV headers with OpenSSL's ASN1_get_object; no values are decoded here
// besides the one-byte version INTEGERs.

/// Reads one header; 1 on success, -1 for indefinite length, 0 on error.
static int sem_tlv(const unsigned char **p, const unsigned char *end, long *length, int *tag, int *class) {
    const unsigned char *q = *p;
    if (end <= q) return 0;
    int flags = ASN1_get_object(&q, length, tag, class, (long)(end - q));
    if (flags & 0x80) return 0;
    if (flags == 0x21) return -1;
    if (*length > end - q) return 0;
    *p = q;
    return 1;
}

/// Reads a one-byte INTEGER version; the value, or -1.
static int sem_small_version(const unsigned char **p, const unsigned char *end) {
    long length; int tag, class;
    if (sem_tlv(p, end, &length, &tag, &class) != 1) return -1;
    if (class != V_ASN1_UNIVERSAL || tag != V_ASN1_INTEGER || length != 1) return -1;
    int value = (*p)[0];
    *p += 1;
    return value;
}

int sem_cms_signed_data_versions_consistent(const unsigned char *der, long total) {
    static const unsigned char id_data[] = {0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x01};
    const unsigned char *p = der, *end = der + total;
    long length; int tag, class, r;
    // ContentInfo ::= SEQUENCE { contentType, [0] EXPLICIT content }
    if ((r = sem_tlv(&p, end, &length, &tag, &class)) != 1) return r;
    end = p + length;
    if ((r = sem_tlv(&p, end, &length, &tag, &class)) != 1) return r;
    p += length;
    if ((r = sem_tlv(&p, end, &length, &tag, &class)) != 1) return r;
    if (class != V_ASN1_CONTEXT_SPECIFIC || tag != 0) return -1;
    // SignedData ::= SEQUENCE { version, digestAlgorithms, encapContentInfo, [0] certs, [1] crls, signerInfos }
    if ((r = sem_tlv(&p, end, &length, &tag, &class)) != 1) return r;
    end = p + length;
    int version = sem_small_version(&p, end);
    if (version < 0) return -1;
    if ((r = sem_tlv(&p, end, &length, &tag, &class)) != 1) return r;
    p += length;
    if ((r = sem_tlv(&p, end, &length, &tag, &class)) != 1) return r;
    const unsigned char *encapEnd = p + length;
    if ((r = sem_tlv(&p, encapEnd, &length, &tag, &class)) != 1) return r;
    int isData = (class == V_ASN1_UNIVERSAL && tag == V_ASN1_OBJECT && length == (long)sizeof(id_data)
                  && memcmp(p, id_data, sizeof(id_data)) == 0);
    p = encapEnd;
    int otherCertificates = 0, v2Attributes = 0, v1Attributes = 0, otherCRLs = 0, v3Signer = 0;
    if ((r = sem_tlv(&p, end, &length, &tag, &class)) != 1) return r;
    if (class == V_ASN1_CONTEXT_SPECIFIC && tag == 0) {
        const unsigned char *setEnd = p + length;
        while (p < setEnd) {
            if ((r = sem_tlv(&p, setEnd, &length, &tag, &class)) != 1) return r;
            if (class == V_ASN1_CONTEXT_SPECIFIC && tag == 3) otherCertificates = 1;
            if (class == V_ASN1_CONTEXT_SPECIFIC && tag == 2) v2Attributes = 1;
            if (class == V_ASN1_CONTEXT_SPECIFIC && tag == 1) v1Attributes = 1;
            p += length;
        }
        if ((r = sem_tlv(&p, end, &length, &tag, &class)) != 1) return r;
    }
    if (class == V_ASN1_CONTEXT_SPECIFIC && tag == 1) {
        const unsigned char *setEnd = p + length;
        while (p < setEnd) {
            if ((r = sem_tlv(&p, setEnd, &length, &tag, &class)) != 1) return r;
            if (class == V_ASN1_CONTEXT_SPECIFIC && tag == 1) otherCRLs = 1;
            p += length;
        }
        if ((r = sem_tlv(&p, end, &length, &tag, &class)) != 1) return r;
    }
    if (class != V_ASN1_UNIVERSAL || tag != V_ASN1_SET) return -1;
    const unsigned char *signersEnd = p + length;
    while (p < signersEnd) {
        // SignerInfo: version 1 with issuerAndSerialNumber, 3 with [0] subjectKeyIdentifier (§5.3).
        if ((r = sem_tlv(&p, signersEnd, &length, &tag, &class)) != 1) return r;
        const unsigned char *signerEnd = p + length;
        int signerVersion = sem_small_version(&p, signerEnd);
        if (signerVersion < 0) return -1;
        if ((r = sem_tlv(&p, signerEnd, &length, &tag, &class)) != 1) return r;
        if (class == V_ASN1_UNIVERSAL && tag == V_ASN1_SEQUENCE) {
            if (signerVersion != 1) return 0;
        } else if (class == V_ASN1_CONTEXT_SPECIFIC && tag == 0) {
            if (signerVersion != 3) return 0;
            v3Signer = 1;
        } else {
            return -1;
        }
        p = signerEnd;
    }
    // §5.1: the SignedData version follows from what it carries.
    int expected = 1;
    if (otherCertificates || otherCRLs) expected = 5;
    else if (v2Attributes) expected = 4;
    else if (v1Attributes || v3Signer || !isData) expected = 3;
    return version == expected ? 1 : 0;
}
