from officine.cli.main import run

run()
