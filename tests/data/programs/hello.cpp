// Run inside the cc image by the system tests: the C++ runtime, threads and exceptions.
#include <iostream>
#include <stdexcept>
#include <string>
#include <thread>

int main() {
    std::string from_thread;
    std::thread worker([&] { from_thread = "thread"; });
    worker.join();
    try {
        throw std::runtime_error("exception");
    } catch (const std::exception& e) {
        std::cout << "hello from C++: " << from_thread << " and " << e.what() << '\n';
    }
    return 0;
}
