import sys


def main() -> int:
    print("qtapp: the console is not built yet", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
