/* cmd_catalog.c -- `xmpp-responder catalog`: the profile table for people
 * (text), for the README (markdown) and for scripts (tsv). The README's
 * profile table and the interop tests' expectations come from here. */
#include <stdio.h>
#include <string.h>

#include "catalog.h"
#include "cmd.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: xmpp-responder catalog [--format text|markdown|tsv]\n"
            "\n"
            "Prints every test profile: label, kind, what it breaks, what a\n"
            "strict correct server does, what a strict client does, and what\n"
            "the peers of the interop matrix (real servers and a scripted\n"
            "dialback-only one) were seen to do.\n"
            "  --format text      aligned columns (default)\n"
            "  --format markdown  the README table\n"
            "  --format tsv       tab-separated, with a header line, for scripts\n");
}

/* What a strict server should do, with the advisory marker. */
static const char *strict_text(const catalog_profile *p)
{
    if (!p->advisory)
        return catalog_expect_name(p->strict);
    return p->strict == CATALOG_EXPECT_ACCEPT ? "accept (advisory)"
                                          : "refuse (advisory)";
}

static void print_tsv(void)
{
    printf("label\tkind\tstrict\tadvisory");
    for (int q = 0; q < CATALOG_PEER_COUNT; q++)
        printf("\t%s", catalog_peer_name((catalog_peer)q));
    printf("\tclient\tbreaks\tdescription\n");
    for (size_t i = 0; i < catalog_count(); i++) {
        const catalog_profile *p = catalog_at(i);
        printf("%s\t%s\t%s\t%s", p->label, catalog_kind_name(p->kind),
               catalog_expect_name(p->strict), p->advisory ? "yes" : "no");
        for (int q = 0; q < CATALOG_PEER_COUNT; q++)
            printf("\t%s", catalog_expect_name(p->peers[q]));
        printf("\t%s\t%s\t%s\n", catalog_client_name(p->client), p->breaks,
               p->description);
    }
}

/* What a strict client should do, with the reason where it differs. */
static void client_text(const catalog_profile *p, char *out, size_t n)
{
    snprintf(out, n, "%s%s%s%s", catalog_client_name(p->client),
             p->advisory ? " (advisory)" : "", p->client_why ? ": " : "",
             p->client_why ? p->client_why : "");
}

static void print_markdown(void)
{
    printf("| domain | kind | what it breaks | a strict, correct server should "
           "| why | a strict client should | on a public instance |\n"
           "|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < catalog_count(); i++) {
        const catalog_profile *p = catalog_at(i);
        char client[400];
        client_text(p, client, sizeof client);
        printf("| `%s.BASE` | %s | %s | %s | %s | %s | %s |\n", p->label,
               catalog_kind_name(p->kind), p->breaks, strict_text(p), p->strict_why,
               client, catalog_public_text(p));
    }
}

static void print_text(void)
{
    printf("%-22s %-11s %-18s %-14s %s\n", "PROFILE", "KIND", "STRICT SERVER",
           "STRICT CLIENT", "WHAT IT BREAKS");
    for (size_t i = 0; i < catalog_count(); i++) {
        const catalog_profile *p = catalog_at(i);
        printf("%-22s %-11s %-18s %-14s %s\n", p->label, catalog_kind_name(p->kind),
               strict_text(p), catalog_client_name(p->client), p->breaks);
    }
}

int cmd_catalog(int argc, char **argv)
{
    const char *format = "text";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) {
            format = argv[++i];
        } else {
            fprintf(stderr, "xmpp-responder catalog: unexpected argument '%s'\n",
                    argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (strcmp(format, "tsv") == 0)
        print_tsv();
    else if (strcmp(format, "markdown") == 0)
        print_markdown();
    else if (strcmp(format, "text") == 0)
        print_text();
    else {
        fprintf(stderr, "xmpp-responder catalog: unknown format '%s' "
                        "(text, markdown, tsv)\n", format);
        return 2;
    }
    return 0;
}
