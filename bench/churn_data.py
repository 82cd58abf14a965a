#!/usr/bin/python3
"""Write the churn data ../shared/bench/churn_pipeline_py.py searches on, as CSV, for bench/select.ts.

The peer script writes no data file: its `generate(rows, seed)` builds the frame in memory, then
`validate` drops rows that break ranges/domains and a stratified 80/20 split (random_state=seed)
keeps the rows RandomizedSearchCV cross-validates. This calls the peer's own functions (imported
from the script, not copied) and writes:

  OUT_DIR/churn_<rows>.csv        every generated row (what `generate` returns), with `churn`
  OUT_DIR/churn_<rows>.train.csv  the validated training split: exactly the rows (and raw columns,
                                  before the peer's preprocessing) the peer's search sees

Usage: /usr/bin/python3 bench/churn_data.py SHARED_BENCH_DIR OUT_DIR [--rows 10000] [--seed 0]
"""
import argparse
import os
import sys

ap = argparse.ArgumentParser()
ap.add_argument("shared_bench")
ap.add_argument("out_dir")
ap.add_argument("--rows", type=int, default=10_000)
ap.add_argument("--seed", type=int, default=0)
args = ap.parse_args()

sys.path.insert(0, args.shared_bench)
import churn_pipeline_py as peer  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

os.makedirs(args.out_dir, exist_ok=True)
df = peer.generate(args.rows, args.seed)
full = os.path.join(args.out_dir, f"churn_{args.rows}.csv")
df.to_csv(full, index=False)

clean, _ = peer.validate(df)
y = clean["churn"].to_numpy()
# the same call as run_single(): same rows, same order
X_tr, _, y_tr, _ = train_test_split(clean, y, test_size=0.2, stratify=y, random_state=args.seed)
train = X_tr[["customer_id", *peer.NUM_COLS, *peer.CAT_COLS, "churn"]]
train.to_csv(os.path.join(args.out_dir, f"churn_{args.rows}.train.csv"), index=False)
print(f"{full}: {len(df)} rows; train split: {len(train)} rows, churn rate {train['churn'].mean():.4f}")
