from culturenet import create_app

app = create_app()
