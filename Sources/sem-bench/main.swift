// placeholder, replaced below
print("sem-bench")
