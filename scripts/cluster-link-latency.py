#!/usr/bin/env python3
"""How soon a duplicate posted to another node is linked, under steady load (issue 24).

Drives a steady load of public requests through the balancer while, every 250 ms, a family is
posted to node 1 and its Latin copy to node 2; then asks node 2 every 50 ms whether the two
requests are one household. Prints the achieved load and the linking latency (p50, p99, max).

    scripts/cluster-link-latency.py BALANCER NODE1 NODE2 TOKEN [RATE_PER_S] [SECONDS]

Start the cluster first with scripts/cluster.sh on a database holding a crisis (e.g. `evac
demo --requests 2000 --no-serve`, so the linkage model has people to learn from), with the
public and account limits off (EVAC_NODE_CONFIG_EXTRA); TOKEN is the demo's.
"""
import http.client
import json
import sys
import threading
import time

balancer, node1, node2, token = sys.argv[1:5]
rate = float(sys.argv[5]) if len(sys.argv) > 5 else 1000.0
seconds = float(sys.argv[6]) if len(sys.argv) > 6 else 30.0
LOAD_THREADS = 16
PAIR_EVERY_S = 0.25
GIVEN_NAMES = ["Мира", "Анна", "Дина", "Алия", "Ольга", "Айгуль", "Елена", "Салтанат", "Ирина",
               "Гульнара", "Мария", "Жанна", "Наталья", "Асель", "Светлана", "Динара", "Татьяна"]
POLL_S = 0.05


def connect(addr):
    host, port = addr.replace("http://", "").split(":")
    return http.client.HTTPConnection(host, int(port), timeout=30)


def request(conn_box, addr, method, path, body=None, auth=False):
    headers = {"content-type": "application/json"}
    if auth:
        headers["authorization"] = f"Bearer {token}"
    for _ in range(3):
        try:
            conn_box[0].request(method, path, body, headers)
            r = conn_box[0].getresponse()
            return r.status, r.read()
        except Exception:
            conn_box[0] = connect(addr)
    return 0, b""


def family(surname, given, phone, birth, channel=None):
    return json.dumps({
        **({"channel": channel} if channel else {}),
        "location": {"text": "Almaty", "country": "KZ"},
        "submitter": {"phones": [phone]},
        "party": [{"surname": surname, "given_names": given, "birth_date": birth, "sex": "F"}],
        "consent": True,
    })


stop = threading.Event()
sent = [0]
lock = threading.Lock()


def load(k):
    box = [connect(balancer)]
    interval = LOAD_THREADS / rate
    nxt = time.time()
    i = 0
    while not stop.is_set():
        # Varied as a crisis's people are: a load of one given name and one birth date would
        # teach a relearnt model that neither tells people apart, and the pairs below, which
        # agree on both, would then wait for review instead of merging.
        n = k * 1_000_003 + i
        given = GIVEN_NAMES[n % len(GIVEN_NAMES)]
        birth = f"{1940 + n % 70}-{1 + n // 70 % 12:02d}-{1 + n // 840 % 28:02d}"
        body = family(f"Нагрузова{k}x{i}", given, f"+7 702 {k:03d} {i % 10000:04d}", birth)
        status, _ = request(box, balancer, "POST", "/api/v1/requests", body)
        if status == 201:
            with lock:
                sent[0] += 1
        i += 1
        nxt += interval
        time.sleep(max(0.0, nxt - time.time()))


latencies = []
unlinked = []


def pairs():
    b1, b2, poll = [connect(node1)], [connect(node2)], [connect(node2)]
    # Families of this run's own (another run's would be copies of them too).
    k = int(time.time()) % 1_000 * 10_000
    while not stop.is_set():
        started = time.time()
        birth = f"19{60 + k % 40}-{1 + k % 12:02d}-{1 + k % 28:02d}"
        phone = f"+7 705 {k // 10000:03d} {k % 10000:04d}"
        s1, a = request(b1, node1, "POST", "/api/v1/requests", family("Жұмабаева", "Әйгерім", phone, birth, "hotline"), True)
        s2, b = request(b2, node2, "POST", "/api/v1/requests", family("Zhumabayeva", "Aigerim", phone, birth, "hotline"), True)
        if s1 == 201 and s2 == 201:
            a, b = json.loads(a)["id"], json.loads(b)["id"]
            posted = time.time()
            while True:
                s, links = request(poll, node2, "GET", f"/api/v1/requests/{b}/links", auth=True)
                if s == 200 and a in json.loads(links).get("household_requests", []):
                    latencies.append(time.time() - posted)
                    break
                if time.time() - posted > 30:
                    unlinked.append(b)
                    break
                time.sleep(POLL_S)
        k += 1
        time.sleep(max(0.0, PAIR_EVERY_S - (time.time() - started)))


threads = [threading.Thread(target=load, args=(k,)) for k in range(LOAD_THREADS)]
threads.append(threading.Thread(target=pairs))
began = time.time()
for t in threads:
    t.start()
time.sleep(seconds)
stop.set()
for t in threads:
    t.join()
elapsed = time.time() - began
latencies.sort()


def pct(p):
    return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")


print(f"load: {sent[0] / elapsed:.0f} acknowledged requests/s through the balancer for {elapsed:.0f} s")
print(f"duplicates across nodes: {len(latencies)} linked, {len(unlinked)} not within 30 s; "
      f"p50 {pct(0.5):.0f} ms, p99 {pct(0.99):.0f} ms, max {pct(1.0):.0f} ms")
