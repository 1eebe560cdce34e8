#!/usr/bin/env python3
"""slixmpp's own SASL client (slixmpp.util.sasl: SCRAM-SHA-256, SCRAM-SHA-1,
PLAIN, with its SASLprep) against sasl_client, through sasl_client_driver on
a pipe: random salt, random nonces on both sides, slixmpp checks our
server-final signature (mutual authentication). Wrong passwords, an authzid
for someone else and PLAIN over plaintext are refused.

Usage: test_sasl_client_slixmpp.py DRIVER"""
import base64
import subprocess
import sys

from slixmpp.util.sasl import choose
from slixmpp.util.sasl.client import SASLMutualAuthFailed

driver = subprocess.Popen([sys.argv[1]], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          text=True)
failures = 0
checks = 0


def ask(line):
    driver.stdin.write(line + "\n")
    driver.stdin.flush()
    return driver.stdout.readline().split(" ", 3)


def check(ok, what):
    global failures, checks
    checks += 1
    if not ok:
        failures += 1
        print("FAIL:", what)


def exchange(mech, password, authzid="", domain="valid.example", encrypted=True):
    """The exchange as slixmpp's feature_mechanisms runs it: the first
    process() is <auth/>'s initial response, each challenge gets a response,
    the success data is verified. The driver's last answer, and whether
    slixmpp accepted the server's signature."""
    creds = {"username": "test", "password": password, "authzid": authzid}
    client = choose({mech}, lambda req, opt: dict(creds),
                    lambda values: {"encrypted": encrypted, "encrypted_plain": True,
                                    "unencrypted_plain": True,
                                    "unencrypted_scram": True})
    check(client.name == mech, "slixmpp chose %s for %s" % (client.name, mech))
    check(ask("new %s %s %d" % (mech, domain, encrypted)) == ["ok\n"], "new exchange")
    data = client.process()
    while True:
        text = base64.b64encode(data).decode() if data else "="
        answer = ask("step " + text)
        if answer[0] != "challenge":
            break
        data = client.process(base64.b64decode(answer[1].strip()) if answer[1].strip() != "-"
                              else b"")
    mutual = None
    if answer[0] == "success" and mech.startswith("SCRAM"):
        try:
            client.process(base64.b64decode(answer[1]))
            mutual = True
        except SASLMutualAuthFailed:
            mutual = False
    return answer, mutual


check(ask("account test test") == ["ok\n"], "account")
for mech in ("SCRAM-SHA-256", "SCRAM-SHA-1"):
    for round_ in range(3):  # fresh nonces each time
        answer, mutual = exchange(mech, "test")
        check(answer[0] == "success" and answer[2] == "test" and mutual,
              "%s: %s, mutual %s" % (mech, answer, mutual))
    answer, mutual = exchange(mech, "test", authzid="test@valid.example")
    check(answer[0] == "success" and answer[3].strip() == "test@valid.example",
          "%s with authzid: %s" % (mech, answer))
    answer, _ = exchange(mech, "tset")
    check(answer[:2] == ["failure", "not-authorized"], "%s wrong password: %s" % (mech, answer))
    answer, _ = exchange(mech, "test", authzid="echo@valid.example")
    check(answer[:2] == ["failure", "invalid-authzid"], "%s other authzid: %s" % (mech, answer))
    answer, mutual = exchange(mech, "test", encrypted=False)
    check(answer[0] == "success" and mutual, "%s without TLS: %s" % (mech, answer))

answer, _ = exchange("PLAIN", "test")
check(answer[0] == "success" and answer[1] == "-", "PLAIN: %s" % answer)
answer, _ = exchange("PLAIN", "test", authzid="test@valid.example")
check(answer[0] == "success", "PLAIN with authzid: %s" % answer)
answer, _ = exchange("PLAIN", "TEST")
check(answer[:2] == ["failure", "not-authorized"], "PLAIN wrong password: %s" % answer)
answer, _ = exchange("PLAIN", "test", encrypted=False)
check(answer[:2] == ["failure", "encryption-required"], "PLAIN without TLS: %s" % answer)

driver.stdin.close()
check(driver.wait(timeout=10) == 0, "driver exit status")
print("%d checks, %d failed" % (checks, failures))
sys.exit(1 if failures else 0)
