"""`python -m sales_grpc ...`: the `sales-grpc` command (how `serve --workers` starts its
workers, with the supervisor's own interpreter)."""

from .entry import main  # says how to install the server when its dependencies are missing

if __name__ == "__main__":  # not when multiprocessing's spawn re-imports it (PDF workers)
    main()
