from wippy.cli import main

main()
