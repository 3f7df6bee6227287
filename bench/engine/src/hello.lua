local io = require("io")

local function main()
    io.print("Hello from Wippy!")
    return 0
end

return { main = main }
