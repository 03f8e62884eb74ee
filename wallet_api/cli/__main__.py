from wallet_api.cli import main

main()
