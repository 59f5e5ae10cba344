from passmuster.cli.main import main

main()
