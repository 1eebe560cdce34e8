/* grade.c -- the published table of grade rules, one predicate per rule,
 * the grade they give and the 2026 readiness line; the table as mdoc for
 * the manual and the grade as text for the terminal. JSON is grade_json.c. */
#include "grade.h"
#include "mdoc.h"

#include <ctype.h>
#include <string.h>

#define GRADE_EXPIRES_SOON_DAYS 14 /* the expires-soon rule's horizon */
#define GRADE_TLS_MODERN (GRADE_TLS12 | GRADE_TLS13)
#define GRADE_TLS_OLD (GRADE_TLS10 | GRADE_TLS11)

/* The rules, in the table's order; the index of each in both arrays. */
enum {
    GRADE_R_NO_CERTIFICATE,
    GRADE_R_UNTRUSTED,
    GRADE_R_INCOMPLETE_CHAIN,
    GRADE_R_EXPIRED,
    GRADE_R_REVOKED,
    GRADE_R_WRONG_NAME,
    GRADE_R_NO_SERVER_PURPOSE,
    GRADE_R_NO_MODERN_TLS,
    GRADE_R_TLS_NOT_REQUIRED,
    GRADE_R_WEAK_KEY,
    GRADE_R_WEAK_SIGNATURE,
    GRADE_R_OLD_TLS,
    GRADE_R_SERVER_AUTH_ONLY,
    GRADE_R_NO_SASL_EXTERNAL,
    GRADE_R_EXPIRES_SOON,
    GRADE_R_DANE,
    GRADE_R_DNSSEC_SRV,
    GRADE_R_COUNT
};

/* Each "when" and "why" is one sentence without its capital and full stop
 * (the manual adds them): no ". " inside, which mdoc would read as two. */
static const grade_rule grade_table[GRADE_R_COUNT] = {
    [GRADE_R_NO_CERTIFICATE] = {"no-certificate", GRADE_F,
        "it sent no certificate",
        "peers cannot authenticate it by certificate: those that require one "
        "refuse its streams, the others need dialback"},
    [GRADE_R_UNTRUSTED] = {"untrusted", GRADE_F,
        "its certificate chain ends at a self-signed or unknown root, or a "
        "signature in it does not verify",
        "peers that verify certificates refuse it; only dialback is left, "
        "where a peer still allows it"},
    [GRADE_R_INCOMPLETE_CHAIN] = {"incomplete-chain", GRADE_F,
        "it does not send the intermediate certificates between its own and "
        "the root",
        "most XMPP servers do not fetch missing intermediates: they refuse "
        "the certificate as untrusted"},
    [GRADE_R_EXPIRED] = {"expired", GRADE_F,
        "its certificate is expired or not yet valid",
        "peers refuse the certificate outside its validity dates"},
    [GRADE_R_REVOKED] = {"revoked", GRADE_F,
        "its certificate is revoked by a CRL of its CA",
        "its CA says it must not be trusted: peers that check revocation "
        "refuse it"},
    [GRADE_R_WRONG_NAME] = {"wrong-name", GRADE_F,
        "its certificate does not name the domain (no DNS-ID, SRV-ID or "
        "xmppAddr for it)",
        "peers refuse the certificate for this domain, whatever its chain"},
    [GRADE_R_NO_SERVER_PURPOSE] = {"no-server-purpose", GRADE_F,
        "its certificate's extended key usage allows TLS client "
        "authentication only, or neither TLS purpose",
        "TLS clients check the server purpose: peers refuse the certificate "
        "when they dial this server"},
    [GRADE_R_NO_MODERN_TLS] = {"no-modern-tls", GRADE_F,
        "it accepts neither TLS 1.2 nor TLS 1.3 (both were tried)",
        "current TLS libraries offer nothing older by default: most peers "
        "cannot open an encrypted stream to it"},
    [GRADE_R_TLS_NOT_REQUIRED] = {"tls-not-required", GRADE_C,
        "it goes on with a stream that did not start TLS",
        "a peer that does not insist on TLS, or an attacker who strips "
        "STARTTLS from its features, talks to it in the clear"},
    [GRADE_R_WEAK_KEY] = {"weak-key", GRADE_C,
        "its certificate's key is RSA or DSA under 2048 bits, or EC under "
        "256 bits",
        "OpenSSL at security level 2 (Debian's default since Debian 10, "
        "under Prosody and ejabberd) refuses RSA keys under 2048 bits, and "
        "public CAs issue none of these"},
    [GRADE_R_WEAK_SIGNATURE] = {"weak-signature", GRADE_C,
        "its certificate is signed with SHA-1 or MD5",
        "OpenSSL at security level 2 (Debian's default since Debian 10) "
        "refuses both, and collisions have been shown for both"},
    [GRADE_R_OLD_TLS] = {"old-tls", GRADE_B,
        "it accepts TLS 1.0 or TLS 1.1",
        "both are deprecated (RFC 8996): a peer that still offers them gets "
        "a stream without modern ciphers"},
    [GRADE_R_SERVER_AUTH_ONLY] = {"server-auth-only", GRADE_B,
        "its certificate's extended key usage allows TLS server "
        "authentication only",
        "peers that check the TLS client purpose refuse this certificate "
        "when your server dials them; your server falls back to dialback if "
        "they allow it"},
    [GRADE_R_NO_SASL_EXTERNAL] = {"no-sasl-external", GRADE_B,
        "it does not offer SASL EXTERNAL to a peer whose certificate is "
        "valid",
        "peers cannot authenticate to it by certificate and must fall back "
        "to dialback; a peer without dialback cannot send it anything"},
    [GRADE_R_EXPIRES_SOON] = {"expires-soon", GRADE_B,
        "its certificate expires within 14 days",
        "peers refuse it from that day unless it is renewed; ACME clients "
        "such as certbot renew 30 days before, so renewal is failing"},
    [GRADE_R_DANE] = {"dane", GRADE_A_PLUS,
        "a DNSSEC-signed DANE TLSA record matches its certificate",
        "peers that check DANE authenticate it without trusting any CA, "
        "and no other CA's certificate passes for it"},
    [GRADE_R_DNSSEC_SRV] = {"dnssec-srv", GRADE_A_PLUS,
        "its SRV records are DNSSEC-signed and validate",
        "peers that validate DNSSEC cannot be sent to another host by a "
        "forged SRV answer"},
};

/* What a predicate is given: the findings and the certificate graded
 * (NULL when none was seen). */
typedef bool (*grade_holds_fn)(const grade_findings *f,
                               const peercert_findings *c);

static bool grade_cert_sent(const peercert_findings *c)
{
    return c && c->present;
}

static bool grade_no_certificate(const grade_findings *f, const peercert_findings *c)
{
    (void)f;
    return c && !c->present;
}

static bool grade_untrusted(const grade_findings *f, const peercert_findings *c)
{
    (void)f;
    return grade_cert_sent(c) &&
           (c->chain == PEERCERT_CHAIN_UNTRUSTED || c->chain == PEERCERT_CHAIN_BAD);
}

static bool grade_incomplete(const grade_findings *f, const peercert_findings *c)
{
    (void)f;
    return grade_cert_sent(c) && c->chain == PEERCERT_CHAIN_INCOMPLETE;
}

static bool grade_out_of_dates(const peercert_findings *c)
{
    return c->chain == PEERCERT_CHAIN_EXPIRED || c->chain == PEERCERT_CHAIN_NOT_YET ||
           (c->not_after != 0 && c->days_left < 0);
}

static bool grade_expired(const grade_findings *f, const peercert_findings *c)
{
    (void)f;
    return grade_cert_sent(c) && grade_out_of_dates(c);
}

static bool grade_revoked(const grade_findings *f, const peercert_findings *c)
{
    (void)f;
    return grade_cert_sent(c) && c->chain == PEERCERT_CHAIN_REVOKED;
}

static bool grade_wrong_name(const grade_findings *f, const peercert_findings *c)
{
    (void)f;
    return grade_cert_sent(c) && !c->name_ok;
}

static bool grade_no_server_purpose(const grade_findings *f, const peercert_findings *c)
{
    (void)f;
    return grade_cert_sent(c) &&
           (c->eku == PEERCERT_EKU_CLIENT_ONLY || c->eku == PEERCERT_EKU_NONE_TLS);
}

static bool grade_no_modern_tls(const grade_findings *f, const peercert_findings *c)
{
    (void)c;
    unsigned works = f->tls_accepted | f->tls_seen;
    return (f->tls_tested & GRADE_TLS_MODERN) == GRADE_TLS_MODERN &&
           !(works & GRADE_TLS_MODERN);
}

static bool grade_tls_not_required(const grade_findings *f, const peercert_findings *c)
{
    (void)c;
    return f->tls_required == GRADE_NO;
}

static bool grade_weak_key(const grade_findings *f, const peercert_findings *c)
{
    (void)f;
    return grade_cert_sent(c) && c->key_weak;
}

static bool grade_weak_signature(const grade_findings *f, const peercert_findings *c)
{
    (void)f;
    return grade_cert_sent(c) && c->signature_weak;
}

static bool grade_old_tls(const grade_findings *f, const peercert_findings *c)
{
    (void)c;
    return ((f->tls_accepted | f->tls_seen) & GRADE_TLS_OLD) != 0;
}

static bool grade_server_auth_only(const grade_findings *f, const peercert_findings *c)
{
    (void)f;
    return grade_cert_sent(c) && c->eku == PEERCERT_EKU_SERVER_ONLY;
}

static bool grade_no_sasl_external(const grade_findings *f, const peercert_findings *c)
{
    (void)c;
    return f->sasl_external == GRADE_NO;
}

static bool grade_expires_soon(const grade_findings *f, const peercert_findings *c)
{
    (void)f;
    return grade_cert_sent(c) && c->not_after != 0 && !grade_out_of_dates(c) &&
           c->days_left < GRADE_EXPIRES_SOON_DAYS;
}

static bool grade_dane(const grade_findings *f, const peercert_findings *c)
{
    (void)c;
    return f->dane_match == GRADE_YES;
}

static bool grade_dnssec_srv(const grade_findings *f, const peercert_findings *c)
{
    (void)c;
    return f->dnssec_srv == GRADE_YES;
}

static const grade_holds_fn grade_holds[GRADE_R_COUNT] = {
    [GRADE_R_NO_CERTIFICATE] = grade_no_certificate,
    [GRADE_R_UNTRUSTED] = grade_untrusted,
    [GRADE_R_INCOMPLETE_CHAIN] = grade_incomplete,
    [GRADE_R_EXPIRED] = grade_expired,
    [GRADE_R_REVOKED] = grade_revoked,
    [GRADE_R_WRONG_NAME] = grade_wrong_name,
    [GRADE_R_NO_SERVER_PURPOSE] = grade_no_server_purpose,
    [GRADE_R_NO_MODERN_TLS] = grade_no_modern_tls,
    [GRADE_R_TLS_NOT_REQUIRED] = grade_tls_not_required,
    [GRADE_R_WEAK_KEY] = grade_weak_key,
    [GRADE_R_WEAK_SIGNATURE] = grade_weak_signature,
    [GRADE_R_OLD_TLS] = grade_old_tls,
    [GRADE_R_SERVER_AUTH_ONLY] = grade_server_auth_only,
    [GRADE_R_NO_SASL_EXTERNAL] = grade_no_sasl_external,
    [GRADE_R_EXPIRES_SOON] = grade_expires_soon,
    [GRADE_R_DANE] = grade_dane,
    [GRADE_R_DNSSEC_SRV] = grade_dnssec_srv,
};

const grade_rule *grade_rules(size_t *n)
{
    *n = GRADE_R_COUNT;
    return grade_table;
}

static const char *const grade_tls_names[GRADE_TLS_VERSIONS] = {
    "TLS1.0", "TLS1.1", "TLS1.2", "TLS1.3"};

const char *grade_tls_name(unsigned i)
{
    return i < GRADE_TLS_VERSIONS ? grade_tls_names[i] : "";
}

void grade_tls_text(unsigned mask, char *out, size_t n)
{
    size_t used = 0;
    out[0] = '\0';
    for (unsigned i = 0; i < GRADE_TLS_VERSIONS; i++)
        if (mask & (1u << i)) {
            int w = snprintf(out + used, n - used, "%s%s", used ? " " : "",
                             grade_tls_names[i]);
            if (w < 0 || (size_t)w >= n - used)
                break;
            used += (size_t)w;
        }
}

unsigned grade_tls_mask(const char *text)
{
    unsigned mask = 0;
    for (unsigned i = 0; text && i < GRADE_TLS_VERSIONS; i++)
        if (strstr(text, grade_tls_names[i]))
            mask |= 1u << i;
    return mask;
}

const char *grade_flag_name(grade_flag f)
{
    return f == GRADE_YES ? "yes" : f == GRADE_NO ? "no" : "";
}

grade_flag grade_flag_of(const char *name)
{
    return !name ? GRADE_UNSEEN : strcmp(name, "yes") == 0 ? GRADE_YES
           : strcmp(name, "no") == 0 ? GRADE_NO : GRADE_UNSEEN;
}

const char *grade_letter_name(grade_letter g)
{
    static const char *const names[] = {"A+", "A", "B", "C", "D", "F", "-"};
    return (unsigned)g < sizeof names / sizeof names[0] ? names[g] : "-";
}

/* ---- the grade ----------------------------------------------------------- */

/* Whether a certificate slot holds something seen. */
static bool grade_seen(const peercert_findings *c, int64_t time)
{
    return time != 0 || c->present;
}

/* The certificate the rules judge: the one it presents when dialled, else
 * the one it sent when it dialled us; NULL when neither was seen. */
static const peercert_findings *grade_cert_of(const grade_findings *f,
                                              bool *from_client)
{
    *from_client = !grade_seen(&f->server_cert, f->server_cert_time) &&
                   grade_seen(&f->client_cert, f->client_cert_time);
    if (*from_client)
        return &f->client_cert;
    return grade_seen(&f->server_cert, f->server_cert_time) ? &f->server_cert : NULL;
}

/* The certificate it shows strict peers when it dials them: the one it
 * sent to us when it did, else the one it presents when dialled. */
static const peercert_findings *grade_dialling_cert(const grade_findings *f)
{
    if (grade_seen(&f->client_cert, f->client_cert_time))
        return &f->client_cert;
    return grade_seen(&f->server_cert, f->server_cert_time) ? &f->server_cert : NULL;
}

/* The 2026 readiness line into r: (a) what strict peers make of its
 * certificate when it dials them, (b) whether it takes le-tlsserver. */
static void grade_readiness(const grade_findings *f, grade_result *r)
{
    const peercert_findings *c = grade_dialling_cert(f);
    const char *a;
    bool a_good = false;
    if (!c)
        a = "Its certificate has not been seen yet.";
    else if (!c->present)
        a = "It presents no certificate: only peers that allow dialback accept "
            "it when it dials them.";
    else if (c->eku == PEERCERT_EKU_SERVER_ONLY)
        a = "Its certificate allows TLS server authentication only: peers that "
            "check the client purpose (ejabberd before 25.07 with fast_tls "
            "before 1.1.24, such as Debian 12's 23.01) refuse it when it dials "
            "them.";
    else if (c->eku == PEERCERT_EKU_NONE_TLS)
        a = "Its certificate allows neither TLS purpose: peers that check the "
            "client purpose refuse it when it dials them.";
    else if (c->eku == PEERCERT_EKU_UNKNOWN)
        a = "Its certificate's purposes are not known yet.";
    else {
        a = "Its certificate allows the TLS client purpose: strict peers "
            "accept it when it dials them.";
        a_good = true;
    }
    const char *b;
    if (f->accepts_server_only == GRADE_YES)
        b = "It accepts peers whose certificate is serverAuth-only "
            "(le-tlsserver).";
    else if (f->accepts_server_only == GRADE_NO)
        b = "It refuses peers whose certificate is serverAuth-only "
            "(le-tlsserver): since Let's Encrypt's default certificates "
            "dropped the client purpose (11 February 2026), such peers cannot "
            "authenticate to it.";
    else
        b = "Whether it accepts peers whose certificate is serverAuth-only "
            "(le-tlsserver) is not tested yet.";
    r->ready = a_good && f->accepts_server_only == GRADE_YES;
    snprintf(r->readiness, sizeof r->readiness, "%s %s", a, b);
}

/* Append rule i to r->applied when it holds. */
static void grade_apply(grade_result *r, size_t i)
{
    if (r->n_applied < GRADE_APPLIED_MAX)
        r->applied[r->n_applied++] = &grade_table[i];
}

void grade_compute(const grade_findings *f, grade_result *out)
{
    memset(out, 0, sizeof *out);
    out->partial = !f->probed;
    grade_readiness(f, out);
    const peercert_findings *c = grade_cert_of(f, &out->graded_client_cert);
    if (!c) {
        out->letter = GRADE_NONE;
        return;
    }
    bool holds[GRADE_R_COUNT];
    grade_letter letter = GRADE_A;
    bool lifted = false;
    for (size_t i = 0; i < GRADE_R_COUNT; i++) {
        holds[i] = grade_holds[i](f, c);
        if (!holds[i])
            continue;
        if (grade_table[i].cap == GRADE_A_PLUS)
            lifted = true;
        else if (grade_table[i].cap > letter)
            letter = grade_table[i].cap;
    }
    out->letter = lifted && letter == GRADE_A ? GRADE_A_PLUS : letter;
    /* worst cap first, the table's order within a cap, lifts last */
    for (int cap = GRADE_F; cap >= GRADE_B; cap--)
        for (size_t i = 0; i < GRADE_R_COUNT; i++)
            if (holds[i] && (int)grade_table[i].cap == cap)
                grade_apply(out, i);
    for (size_t i = 0; i < GRADE_R_COUNT; i++)
        if (holds[i] && grade_table[i].cap == GRADE_A_PLUS)
            grade_apply(out, i);
}

/* ---- text ---------------------------------------------------------------- */

const char *grade_partial_reason(const grade_result *r)
{
    return r->partial ? "the TLS versions have not been tried one by one yet" : NULL;
}

const char *grade_cert_words(const grade_result *r)
{
    if (r->letter == GRADE_NONE)
        return "no certificate seen: it has neither been dialled nor dialled us";
    return r->graded_client_cert
               ? "the certificate it sent when it dialled us (it has not been dialled)"
               : "the certificate it presents when dialled";
}

void grade_print(FILE *out, const char *indent, const grade_findings *f,
                 const grade_result *r)
{
    (void)f;
    if (r->letter == GRADE_NONE) {
        fprintf(out, "%sgrade: - (%s)\n", indent, grade_cert_words(r));
    } else {
        fprintf(out, "%sgrade: %s", indent, grade_letter_name(r->letter));
        if (r->partial)
            fprintf(out, " (partial: %s)", grade_partial_reason(r));
        fputc('\n', out);
        if (r->n_applied > 0) {
            const grade_rule *d = r->applied[0];
            fprintf(out, "%s  decisive: %s (%s %s): %s; %s\n", indent, d->id,
                    d->cap == GRADE_A_PLUS ? "lifts to" : "caps at",
                    grade_letter_name(d->cap), d->when, d->why);
        }
        if (r->n_applied > 1) {
            fprintf(out, "%s  also:", indent);
            for (size_t i = 1; i < r->n_applied; i++)
                fprintf(out, "%s %s (%s)", i > 1 ? "," : "", r->applied[i]->id,
                        grade_letter_name(r->applied[i]->cap));
            fputc('\n', out);
        }
        fprintf(out, "%s  graded: %s\n", indent, grade_cert_words(r));
    }
    fprintf(out, "%s2026 readiness: %s. %s\n", indent,
            r->ready ? "ready" : "not ready", r->readiness);
}

/* s as one mdoc sentence: capitalised, a full stop, wrapped. The table's
 * texts are short and hold no backslash (test_grade.c checks both). */
static void grade_mdoc_sentence(FILE *out, const char *s)
{
    char line[512];
    snprintf(line, sizeof line, "%c%s.", toupper((unsigned char)s[0]), s + 1);
    mdoc_text(out, line);
}

void grade_rules_mdoc(FILE *out)
{
    fputs(".Bl -tag -width Ds\n", out);
    for (size_t i = 0; i < GRADE_R_COUNT; i++) {
        const grade_rule *g = &grade_table[i];
        if (g->cap == GRADE_A_PLUS)
            fprintf(out, ".It Cm %s Pq lifts A to A+\n", g->id);
        else
            fprintf(out, ".It Cm %s Pq caps at %s\n", g->id, grade_letter_name(g->cap));
        grade_mdoc_sentence(out, g->when);
        grade_mdoc_sentence(out, g->why);
    }
    fputs(".El\n", out);
}
