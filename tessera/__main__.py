from tessera.platform.cli import main

main()
