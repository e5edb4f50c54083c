#!/usr/bin/env python3
"""Times commands interleaved: every round runs each command once, in turn, so a machine whose
speed drifts (other jobs, frequency) affects every command alike. Writes hyperfine-shaped JSON:
{"results": [{"command": name, "times": [seconds, ...]}]}.

  interleave.py --runs 5 --warmup 1 --export-json out.json [--prepare NAME=CMD ...] NAME=CMD ...

A --prepare command runs (untimed) before each run of the command of that name.
"""
import argparse, json, subprocess, sys, time

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=0)
    parser.add_argument("--export-json", required=True)
    parser.add_argument("--prepare", action="append", default=[])
    parser.add_argument("commands", nargs="+")
    args = parser.parse_args()
    commands = [c.split("=", 1) for c in args.commands]
    prepare = dict(p.split("=", 1) for p in args.prepare)
    times = {name: [] for name, _ in commands}
    for round in range(args.warmup + args.runs):
        for name, command in commands:
            if name in prepare:
                subprocess.run(["bash", "-c", prepare[name]], check=False, stdout=subprocess.DEVNULL)
            start = time.perf_counter()
            subprocess.run(["bash", "-c", command], check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            elapsed = time.perf_counter() - start
            if round >= args.warmup:
                times[name].append(elapsed)
    json.dump({"results": [{"command": n, "times": times[n]} for n, _ in commands]}, open(args.export_json, "w"))

if __name__ == "__main__":
    main()
