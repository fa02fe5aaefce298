/*
 * CShims - plain functions for the OpenSSL macros that Swift cannot import.
 *
 * Almost every function here is a one-line wrapper; logic belongs in Swift. The one
 * exception, sem_cms_signed_data_versions_consistent, walks a SignedData with OpenSSL's
 * own TLV reader (ASN1_get_object) to compare version numbers that the signature does
 * not cover; it builds nothing and decodes no object. Moving it into Swift over the
 * same reader would be cleaner.
 */
#ifndef SEM_CSHIMS_H
#define SEM_CSHIMS_H

#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <stddef.h>
#include <openssl/bio.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/ssl.h>
#include <openssl/cms.h>
#include <openssl/ocsp.h>

/* BIO */
long sem_BIO_get_mem_data(BIO *bio, char **out);
void sem_OPENSSL_free(void *ptr);

/* STACK_OF(X509) */
STACK_OF(X509) *sem_sk_X509_new_null(void);
int sem_sk_X509_push(STACK_OF(X509) *stack, X509 *cert);
int sem_sk_X509_num(const STACK_OF(X509) *stack);
X509 *sem_sk_X509_value(const STACK_OF(X509) *stack, int index);
void sem_sk_X509_free(STACK_OF(X509) *stack);
void sem_sk_X509_pop_free(STACK_OF(X509) *stack);

/* STACK_OF(X509_CRL) */
STACK_OF(X509_CRL) *sem_sk_X509_CRL_new_null(void);
int sem_sk_X509_CRL_push(STACK_OF(X509_CRL) *stack, X509_CRL *crl);
void sem_sk_X509_CRL_free(STACK_OF(X509_CRL) *stack);

/* STACK_OF(GENERAL_NAME) */
int sem_sk_GENERAL_NAME_num(const GENERAL_NAMES *names);
GENERAL_NAME *sem_sk_GENERAL_NAME_value(const GENERAL_NAMES *names, int index);
void sem_GENERAL_NAMES_free(GENERAL_NAMES *names);

/* STACK_OF(CMS_SignerInfo), STACK_OF(CMS_RecipientInfo) */
int sem_sk_CMS_SignerInfo_num(STACK_OF(CMS_SignerInfo) *stack);
CMS_SignerInfo *sem_sk_CMS_SignerInfo_value(STACK_OF(CMS_SignerInfo) *stack, int index);
int sem_sk_CMS_RecipientInfo_num(STACK_OF(CMS_RecipientInfo) *stack);
CMS_RecipientInfo *sem_sk_CMS_RecipientInfo_value(STACK_OF(CMS_RecipientInfo) *stack, int index);

/* STACK_OF(X509_REVOKED) */
int sem_sk_X509_REVOKED_num(const STACK_OF(X509_REVOKED) *stack);
X509_REVOKED *sem_sk_X509_REVOKED_value(const STACK_OF(X509_REVOKED) *stack, int index);

/* STACK_OF(OPENSSL_STRING) as returned by X509_get1_email / X509_get1_ocsp */
int sem_sk_OPENSSL_STRING_num(STACK_OF(OPENSSL_STRING) *stack);
const char *sem_sk_OPENSSL_STRING_value(STACK_OF(OPENSSL_STRING) *stack, int index);

/* SSL */
long sem_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version);
long sem_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version);
long sem_SSL_CTX_set_mode(SSL_CTX *ctx, long mode);
long sem_SSL_set_tlsext_host_name(SSL *ssl, const char *name);

/* CMS / S/MIME: stacks used for SMIMECapabilities, receipt requests and generic
 * ASN.1 decoding of EnvelopedData headers. */
int sem_cms_sk_X509_ALGOR_num(const STACK_OF(X509_ALGOR) *stack);
X509_ALGOR *sem_cms_sk_X509_ALGOR_value(const STACK_OF(X509_ALGOR) *stack, int index);
void sem_cms_sk_X509_ALGOR_pop_free(STACK_OF(X509_ALGOR) *stack);
STACK_OF(GENERAL_NAMES) *sem_cms_sk_GENERAL_NAMES_new_null(void);
int sem_cms_sk_GENERAL_NAMES_push(STACK_OF(GENERAL_NAMES) *stack, GENERAL_NAMES *names);
int sem_cms_sk_GENERAL_NAMES_num(const STACK_OF(GENERAL_NAMES) *stack);
GENERAL_NAMES *sem_cms_sk_GENERAL_NAMES_value(const STACK_OF(GENERAL_NAMES) *stack, int index);
void sem_cms_sk_GENERAL_NAMES_pop_free(STACK_OF(GENERAL_NAMES) *stack);
int sem_cms_sk_ASN1_TYPE_num(const STACK_OF(ASN1_TYPE) *stack);
ASN1_TYPE *sem_cms_sk_ASN1_TYPE_value(const STACK_OF(ASN1_TYPE) *stack, int index);
void sem_cms_sk_ASN1_TYPE_pop_free(STACK_OF(ASN1_TYPE) *stack);
int sem_cms_sk_CMS_RecipientEncryptedKey_num(STACK_OF(CMS_RecipientEncryptedKey) *stack);
CMS_RecipientEncryptedKey *sem_cms_sk_CMS_RecipientEncryptedKey_value(STACK_OF(CMS_RecipientEncryptedKey) *stack,
                                                                       int index);

#endif

/* X.509 extensions, CSR, CRL and OCSP (SEMCrypto/X509) */
#ifndef SEM_CSHIMS_X509_H
#define SEM_CSHIMS_X509_H
int sem_sk_GENERAL_NAME_push(GENERAL_NAMES *names, GENERAL_NAME *name);
int sem_sk_ASN1_OBJECT_num(const STACK_OF(ASN1_OBJECT) *stack);
ASN1_OBJECT *sem_sk_ASN1_OBJECT_value(const STACK_OF(ASN1_OBJECT) *stack, int index);
int sem_sk_ASN1_OBJECT_push(STACK_OF(ASN1_OBJECT) *stack, ASN1_OBJECT *object);
int sem_sk_POLICYINFO_num(const STACK_OF(POLICYINFO) *stack);
POLICYINFO *sem_sk_POLICYINFO_value(const STACK_OF(POLICYINFO) *stack, int index);
int sem_sk_POLICYINFO_push(STACK_OF(POLICYINFO) *stack, POLICYINFO *info);
int sem_sk_DIST_POINT_num(const STACK_OF(DIST_POINT) *stack);
DIST_POINT *sem_sk_DIST_POINT_value(const STACK_OF(DIST_POINT) *stack, int index);
int sem_sk_DIST_POINT_push(STACK_OF(DIST_POINT) *stack, DIST_POINT *point);
int sem_sk_ACCESS_DESCRIPTION_num(const STACK_OF(ACCESS_DESCRIPTION) *stack);
ACCESS_DESCRIPTION *sem_sk_ACCESS_DESCRIPTION_value(const STACK_OF(ACCESS_DESCRIPTION) *stack, int index);
int sem_sk_ACCESS_DESCRIPTION_push(STACK_OF(ACCESS_DESCRIPTION) *stack, ACCESS_DESCRIPTION *description);
STACK_OF(X509_EXTENSION) *sem_sk_X509_EXTENSION_new_null(void);
int sem_sk_X509_EXTENSION_num(const STACK_OF(X509_EXTENSION) *stack);
X509_EXTENSION *sem_sk_X509_EXTENSION_value(const STACK_OF(X509_EXTENSION) *stack, int index);
int sem_sk_X509_EXTENSION_push(STACK_OF(X509_EXTENSION) *stack, X509_EXTENSION *extension);
void sem_sk_X509_EXTENSION_pop_free(STACK_OF(X509_EXTENSION) *stack);
#endif

// MARK: CMS version consistency (federation trust lists and all SignedData)
#ifndef SEM_CSHIMS_CMS_VERSIONS_H
#define SEM_CSHIMS_CMS_VERSIONS_H
/// Checks the version numbers of a DER SignedData ContentInfo against RFC 5652 §5.1 and
/// §5.3 (they lie outside every signature). Returns 1 when consistent, 0 when not, and
/// -1 when the encoding cannot be walked (indefinite lengths, unexpected structure).
int sem_cms_signed_data_versions_consistent(const unsigned char *der, long length);
#endif
