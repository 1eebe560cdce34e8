/* test_netaddr.c -- CIDR parsing, membership and the special-range names
 * that decide which addresses outbound connections may reach. */
#include <arpa/inet.h>
#include <string.h>

#include "check.h"
#include "netaddr.h"

/* sockaddr for a literal (port 5269). */
static struct sockaddr_storage sa(const char *text)
{
    struct sockaddr_storage ss;
    if (!netaddr_literal(text, 5269, &ss))
        fprintf(stderr, "bad literal in the test: %s\n", text);
    return ss;
}

/* The class name of text, or "public". */
static const char *class_of(const char *text)
{
    struct sockaddr_storage ss = sa(text);
    netaddr_special_range s;
    return netaddr_special((const struct sockaddr *)&ss, &s) ? s.name : "public";
}

/* The special range of text as CIDR text, or "" for public addresses. */
static const char *range_of(const char *text)
{
    static char buf[RS_CIDR_TEXT_MAX];
    struct sockaddr_storage ss = sa(text);
    netaddr_special_range s;
    buf[0] = '\0';
    if (netaddr_special((const struct sockaddr *)&ss, &s))
        netaddr_cidr_text(&s.range, buf, sizeof buf);
    return buf;
}

static bool contains(const char *cidr, const char *addr)
{
    netaddr_cidr c;
    struct sockaddr_storage ss = sa(addr);
    return netaddr_cidr_parse(cidr, &c) == NULL &&
           netaddr_cidr_contains(&c, (const struct sockaddr *)&ss);
}

static void test_parse(void)
{
    netaddr_cidr c;
    char buf[RS_CIDR_TEXT_MAX];
    CHECK(netaddr_cidr_parse("10.0.0.0/8", &c) == NULL);
    CHECK(c.family == AF_INET && c.prefix == 8);
    netaddr_cidr_text(&c, buf, sizeof buf);
    CHECK_STR(buf, "10.0.0.0/8");
    CHECK(netaddr_cidr_parse("127.0.0.1", &c) == NULL && c.prefix == 32);
    CHECK(netaddr_cidr_parse("fc00::/7", &c) == NULL);
    CHECK(c.family == AF_INET6 && c.prefix == 7);
    CHECK(netaddr_cidr_parse("::1", &c) == NULL && c.prefix == 128);
    CHECK(netaddr_cidr_parse("0.0.0.0/0", &c) == NULL && c.prefix == 0);
    CHECK(netaddr_cidr_parse("::/0", &c) == NULL && c.prefix == 0);
    netaddr_cidr_parse("2001:db8::/32", &c);
    netaddr_cidr_text(&c, buf, sizeof buf);
    CHECK_STR(buf, "2001:db8::/32");
    /* what an operator gets wrong */
    CHECK(netaddr_cidr_parse("10.1.2.3/8", &c) != NULL);     /* host bits */
    CHECK(strstr(netaddr_cidr_parse("10.1.2.3/8", &c), "10.0.0.0/8") != NULL);
    CHECK(netaddr_cidr_parse("10.0.0.0/33", &c) != NULL);
    CHECK(netaddr_cidr_parse("::/129", &c) != NULL);
    CHECK(netaddr_cidr_parse("10.0.0.0/", &c) != NULL);
    CHECK(netaddr_cidr_parse("10.0.0.0/-1", &c) != NULL);
    CHECK(netaddr_cidr_parse("10.0.0.0/8x", &c) != NULL);
    CHECK(netaddr_cidr_parse("10.0.0.0/0008", &c) != NULL);
    CHECK(netaddr_cidr_parse("/8", &c) != NULL);
    CHECK(netaddr_cidr_parse("example.org/8", &c) != NULL);
    CHECK(netaddr_cidr_parse("", &c) != NULL);
    CHECK(netaddr_cidr_parse("256.0.0.0/8", &c) != NULL);
    CHECK(netaddr_cidr_parse("1.2.3.4/32/1", &c) != NULL);
}

static void test_contains(void)
{
    CHECK(contains("127.0.0.1/32", "127.0.0.1"));
    CHECK(!contains("127.0.0.1/32", "127.0.0.9"));
    CHECK(contains("127.0.0.0/8", "127.0.0.9"));
    CHECK(contains("10.0.0.0/8", "10.255.255.255"));
    CHECK(!contains("10.0.0.0/8", "11.0.0.0"));
    CHECK(contains("172.16.0.0/12", "172.31.1.1"));
    CHECK(!contains("172.16.0.0/12", "172.32.0.1"));
    CHECK(contains("0.0.0.0/0", "8.8.8.8"));
    CHECK(!contains("0.0.0.0/0", "2001:4860::8888"));  /* families differ */
    CHECK(contains("fc00::/7", "fd12:3456::1"));
    CHECK(!contains("fc00::/7", "fe00::1"));
    CHECK(contains("::1/128", "::1"));
    CHECK(!contains("::1/128", "::2"));
    /* an IPv4-mapped IPv6 address matches its IPv4 range */
    CHECK(contains("127.0.0.1/32", "::ffff:127.0.0.1"));
    CHECK(!contains("127.0.0.1/32", "::ffff:127.0.0.9"));
}

static void test_classes(void)
{
    /* IPv4 */
    CHECK_STR(class_of("127.0.0.9"), "loopback");
    CHECK_STR(class_of("10.1.2.3"), "private");
    CHECK_STR(class_of("172.16.0.1"), "private");
    CHECK_STR(class_of("172.31.255.254"), "private");
    CHECK_STR(class_of("172.32.0.1"), "public");
    CHECK_STR(class_of("192.168.1.1"), "private");
    CHECK_STR(class_of("100.64.0.1"), "shared");
    CHECK_STR(class_of("100.127.255.255"), "shared");
    CHECK_STR(class_of("100.128.0.1"), "public");
    CHECK_STR(class_of("169.254.169.254"), "link-local");
    CHECK_STR(class_of("224.0.0.1"), "multicast");
    CHECK_STR(class_of("239.255.255.250"), "multicast");
    CHECK_STR(class_of("0.0.0.0"), "unspecified");
    CHECK_STR(class_of("0.1.2.3"), "this-network");
    CHECK_STR(class_of("255.255.255.255"), "broadcast");
    CHECK_STR(class_of("240.0.0.1"), "reserved");
    CHECK_STR(class_of("192.0.2.10"), "documentation");
    CHECK_STR(class_of("198.51.100.1"), "documentation");
    CHECK_STR(class_of("203.0.113.7"), "documentation");
    CHECK_STR(class_of("198.18.0.1"), "benchmarking");
    CHECK_STR(class_of("192.0.0.8"), "reserved");
    CHECK_STR(class_of("8.8.8.8"), "public");
    CHECK_STR(class_of("1.1.1.1"), "public");
    CHECK_STR(class_of("192.0.3.1"), "public");
    CHECK_STR(class_of("223.255.255.255"), "public");
    /* IPv6 */
    CHECK_STR(class_of("::1"), "loopback");
    CHECK_STR(class_of("::"), "unspecified");
    CHECK_STR(class_of("fd00::1"), "unique-local");
    CHECK_STR(class_of("fc00::1"), "unique-local");
    CHECK_STR(class_of("fe80::1"), "link-local");
    CHECK_STR(class_of("febf::1"), "link-local");
    CHECK_STR(class_of("fec0::1"), "site-local");
    CHECK_STR(class_of("ff02::1"), "multicast");
    CHECK_STR(class_of("2001:db8::1"), "documentation");
    CHECK_STR(class_of("3fff::1"), "documentation");
    CHECK_STR(class_of("100::1"), "reserved");
    CHECK_STR(class_of("::2"), "reserved");       /* outside 2000::/3 */
    CHECK_STR(class_of("4000::1"), "reserved");
    CHECK_STR(class_of("2001:4860:4860::8888"), "public");
    CHECK_STR(class_of("2a00:1450:4001::1"), "public");
    /* embedded IPv4 addresses are judged by that address */
    CHECK_STR(class_of("::ffff:127.0.0.1"), "loopback");
    CHECK_STR(class_of("::ffff:10.0.0.1"), "private");
    CHECK_STR(class_of("::ffff:8.8.8.8"), "public");
    CHECK_STR(class_of("64:ff9b::192.168.0.1"), "private");
    CHECK_STR(class_of("64:ff9b::8.8.8.8"), "public");
    CHECK_STR(class_of("64:ff9b:1::1"), "private");
    CHECK_STR(class_of("2002:7f00:1::1"), "loopback");   /* 6to4 of 127.0.0.1 */
    CHECK_STR(class_of("2002:0808:0808::1"), "public");
}

static void test_ranges(void)
{
    /* what init writes for a loopback or private --address */
    CHECK_STR(range_of("127.0.0.2"), "127.0.0.0/8");
    CHECK_STR(range_of("10.1.2.3"), "10.0.0.0/8");
    CHECK_STR(range_of("192.168.7.1"), "192.168.0.0/16");
    CHECK_STR(range_of("172.20.0.1"), "172.16.0.0/12");
    CHECK_STR(range_of("::1"), "::1/128");
    CHECK_STR(range_of("fd00::5"), "fc00::/7");
    CHECK_STR(range_of("fe80::5"), "fe80::/10");
    CHECK_STR(range_of("::ffff:127.0.0.2"), "127.0.0.0/8");
    CHECK_STR(range_of("8.8.8.8"), "");
    struct sockaddr_storage ss = sa("10.1.2.3");
    netaddr_special_range s;
    CHECK(netaddr_special((const struct sockaddr *)&ss, &s));
    CHECK_STR(s.phrase, "a private address");
}

static void test_literals(void)
{
    struct sockaddr_storage ss;
    char buf[64];
    CHECK(netaddr_literal("127.0.0.9", 5269, &ss));
    CHECK(ss.ss_family == AF_INET);
    CHECK(ntohs(((struct sockaddr_in *)&ss)->sin_port) == 5269);
    netaddr_text((const struct sockaddr *)&ss, buf, sizeof buf);
    CHECK_STR(buf, "127.0.0.9");
    CHECK(netaddr_literal("fd00::1", 5270, &ss));
    CHECK(ss.ss_family == AF_INET6);
    netaddr_text((const struct sockaddr *)&ss, buf, sizeof buf);
    CHECK_STR(buf, "fd00::1");
    CHECK(!netaddr_literal("victim.example", 5269, &ss));
    CHECK(!netaddr_literal("", 5269, &ss));
}

/* The requester key of a literal at v4/v6 bits. */
static const char *key_of(const char *text, unsigned v4, unsigned v6)
{
    static char buf[RS_CIDR_TEXT_MAX];
    struct sockaddr_storage ss = sa(text);
    netaddr_prefix_key((const struct sockaddr *)&ss, v4, v6, buf, sizeof buf);
    return buf;
}

static void test_prefix_keys(void)
{
    CHECK_STR(key_of("192.0.2.7", 32, 64), "192.0.2.7");
    CHECK_STR(key_of("192.0.2.7", 24, 48), "192.0.2.0/24");
    CHECK_STR(key_of("2001:db8:1:2:3:4:5:6", 32, 64), "2001:db8:1:2::/64");
    CHECK_STR(key_of("2001:db8:1:2:3:4:5:6", 24, 48), "2001:db8:1::/48");
    CHECK_STR(key_of("2001:db8:1:2:3:4:5:6", 32, 128), "2001:db8:1:2:3:4:5:6/128");
    CHECK_STR(key_of("2001:db8:1:2:3:4:5:6", 32, 57), "2001:db8:1::/57");
    CHECK_STR(key_of("2001:db8:1:3:3:4:5:6", 32, 63), "2001:db8:1:2::/63");
    /* one /64 is one requester whatever its low bits */
    CHECK_STR(key_of("2001:db8:1:2::1", 32, 64), key_of("2001:db8:1:2:ffff::9", 32, 64));
    /* an IPv4 peer on an IPv6 listener is its IPv4 address */
    CHECK_STR(key_of("::ffff:198.51.100.9", 32, 64), "198.51.100.9");
    CHECK_STR(key_of("::ffff:198.51.100.9", 24, 48), "198.51.100.0/24");
    CHECK_STR(key_of("127.0.0.2", 40, 200), "127.0.0.2"); /* lengths capped */
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    char buf[RS_CIDR_TEXT_MAX];
    netaddr_prefix_key((const struct sockaddr *)&ss, 32, 64, buf, sizeof buf);
    CHECK_STR(buf, "?");
}

int main(void)
{
    test_parse();
    test_contains();
    test_classes();
    test_ranges();
    test_literals();
    test_prefix_keys();
    return check_done();
}
