def hello():
    return "hello from purepy"
