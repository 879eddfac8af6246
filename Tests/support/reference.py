#!/usr/bin/env python3
"""Independent reference computations for the weir-uniq, weir-top and weir-explode tests.

Usage: reference.py gen N SEED [--no-big]     mixed-type NDJSON records on stdout
       reference.py uniq FIELD|- < input       first record of each key (jq ==), in input order
       reference.py count FIELD|- < input      {"key","count"} per key, first-seen order (as text keys)
       reference.py top N FIELD GROUP|- largest|smallest < input
       reference.py explode FIELD < input      one record per element of .FIELD (jq .FIELD[])
       reference.py same FILE1 FILE2           exit 0 when the files hold the same JSON values, in order

Numbers are parsed exactly (Decimal / int), so 1.10 == 1.1 and big integers keep every digit.
Independent of Weir: nothing here calls a Weir stage.
"""
import json, random, sys
from decimal import Decimal

def parse(line):
    return json.loads(line, parse_float=Decimal, parse_int=int, object_pairs_hook=lambda pairs: dict(pairs))

def canon(v):
    """A hashable value equal for two JSON values exactly when jq's == says so."""
    if v is None or isinstance(v, bool):
        return ("c", v)
    if isinstance(v, int):
        return ("big", v) if abs(v) >= 2**53 else ("n", float(v))
    if isinstance(v, Decimal):
        return ("n", float(v))
    if isinstance(v, str):
        return ("s", v)
    if isinstance(v, list):
        return ("a", tuple(canon(x) for x in v))
    return ("o", tuple(sorted((k, canon(x)) for k, x in v.items())))

def order(v):
    """A sort key in jq's order: null < false < true < numbers < strings < arrays < objects."""
    if v is None: return (0,)
    if v is False: return (1,)
    if v is True: return (2,)
    if isinstance(v, (int, Decimal)): return (3, v)
    if isinstance(v, str): return (4, v)
    if isinstance(v, list): return (5, tuple(order(x) for x in v))
    keys = sorted(v)
    return (6, tuple(keys), tuple(order(v[k]) for k in keys))

def number_text(rng, big):
    choice = rng.randrange(8 if big else 6)
    if choice == 0: return str(rng.randint(-5, 5))
    if choice == 1: return "%d.%d0" % (rng.randint(0, 3), rng.randint(0, 9))   # 1.10 == 1.1
    if choice == 2: return "%d.%d" % (rng.randint(0, 3), rng.randint(0, 9))
    if choice == 3: return "%de0" % rng.randint(0, 3)                           # 2e0 == 2
    if choice == 4: return "-0" if rng.random() < 0.5 else "0.0"
    if choice == 5: return "%d.5" % rng.randint(-2, 2)
    return str(12345678901234567890 + rng.randint(0, 3))                        # beyond 2^53

def value_text(rng, depth, big):
    kind = rng.randrange(7 if depth < 2 else 5)
    if kind == 0: return rng.choice(["null", "true", "false"])
    if kind in (1, 2): return number_text(rng, big)
    if kind == 3: return json.dumps(rng.choice(["a", "b", "Lyon", "caf\u00e9", "\u00e9", "A", ""]), ensure_ascii=rng.random() < 0.5)
    if kind == 4: return json.dumps(rng.choice(["x", "y"]))
    if kind == 5: return "[" + ",".join(value_text(rng, depth + 1, big) for _ in range(rng.randint(0, 2))) + "]"
    keys = rng.sample(["a", "b", "c"], rng.randint(0, 2))
    return "{" + ",".join("%s:%s" % (json.dumps(k), value_text(rng, depth + 1, big)) for k in keys) + "}"

def generate(count, seed, big):
    rng = random.Random(seed)
    for index in range(1, count + 1):
        items = "[" + ",".join(value_text(rng, 1, big) for _ in range(rng.randint(0, 3))) + "]"
        if rng.random() < 0.1:
            items = rng.choice(["null", "{}", '{"p":1,"q":[2]}'])
        fields = ['"id":%d' % index, '"k":%s' % value_text(rng, 0, big), '"g":%s' % json.dumps(rng.choice(["n", "s", "e"])),
                  '"items":%s' % items, '"price":%s' % number_text(rng, big)]
        if rng.random() < 0.3:
            fields[1], fields[4] = fields[4], fields[1]   # key order varies
        print("{" + ",".join(fields) + "}")

def records():
    return [(line.rstrip("\n"), parse(line)) for line in sys.stdin if line.strip()]

def key_of(record, field):
    return record if field == "-" else record.get(field)

def main():
    command, args = sys.argv[1], sys.argv[2:]
    if command == "gen":
        generate(int(args[0]), int(args[1]), "--no-big" not in args)
    elif command == "uniq":
        seen = set()
        for text, record in records():
            key = canon(key_of(record, args[0]))
            if key not in seen:
                seen.add(key)
                print(text)
    elif command == "count":
        counts = {}
        for _, record in records():
            key = canon(key_of(record, args[0]))
            counts[key] = counts.get(key, 0) + 1
        for count in counts.values():
            print(count)
    elif command == "top":
        n, field, group, largest = int(args[0]), args[1], args[2], args[3] == "largest"
        groups = {}
        for text, record in records():
            groups.setdefault(canon(record.get(group)) if group != "-" else None, []).append((text, record))
        for members in groups.values():
            ranked = sorted(members, key=lambda member: order(member[1].get(field)), reverse=largest)  # stable both ways
            for text, _ in ranked[:n]:
                print(text)
    elif command == "explode":
        field = args[0]
        for _, record in records():
            value = record.get(field)
            elements = value if isinstance(value, list) else [{"key": k, "value": v} for k, v in value.items()] if isinstance(value, dict) else []
            for element in elements:
                copy = dict(record)
                copy[field] = element
                print(json.dumps(copy, default=float, separators=(",", ":"), ensure_ascii=False))
    elif command == "same":
        def load(path):
            with open(path, encoding="utf-8") as f:
                return [json.loads(line, parse_float=Decimal, parse_int=Decimal, object_pairs_hook=lambda pairs: pairs) for line in f if line.strip()]
        a, b = load(args[0]), load(args[1])
        if a != b:
            for index, (x, y) in enumerate(zip(a, b)):
                if x != y:
                    print("line %d differs:\n  %s\n  %s" % (index + 1, x, y), file=sys.stderr)
                    break
            else:
                print("lengths differ: %d and %d" % (len(a), len(b)), file=sys.stderr)
            sys.exit(1)
    else:
        sys.exit(__doc__)

if __name__ == "__main__":
    main()
