from musicrec.cli import main

main()
