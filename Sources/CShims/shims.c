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
