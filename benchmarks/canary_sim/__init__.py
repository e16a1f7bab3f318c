"""A simulator that runs safeship's canary judges side by side on identical synthetic traffic.

Modules:

* ``traffic``: the traffic model (steps, diurnal load, bursty errors, AR(1) latency shocks,
  Pareto tails, telemetry gaps) emitting Prometheus-style cumulative counters every 10 s;
* ``scenarios``: the named A/A and regression scenarios;
* ``evidence``: counters -> the ``AnalysisInput`` a judge sees at one instant;
* ``judging``: the judges (real ones, or a clearly named stand-in) and the checking loop;
* ``statistics``: per judge x scenario x check frequency rates, delays, Wilson intervals;
* ``targets``: the acceptance targets with PASS/FAIL;
* ``harness``: the multiprocessing driver; ``report``: the table and the JSON file.

``benchmarks/canary_detection.py`` is the entry point.
"""
